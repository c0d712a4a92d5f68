import { TrellisError } from '@trellis/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, harness, tool } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const types = (evs: { type: string; nodeId?: string }[]) => evs.map((e) => (e.nodeId ? `${e.type}:${e.nodeId}` : e.type));

describe('runner on SQLite', () => {
  it('runs a linear workflow A→B→C and records every transition', async () => {
    h = await harness();
    const wf = await h.save({
      name: 'linear',
      inputSchema: { type: 'object', required: ['n'], properties: { n: { type: 'number' } } },
      nodes: [
        { id: 'a', type: 'transform', expression: '$context.n + 1' },
        { id: 'b', type: 'transform', expression: '$a * 2' },
        { id: 'c', type: 'transform', expression: "{ 'result': $b }" },
      ],
      edges: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c' },
      ],
    });
    const rec = await h.run(wf, { n: 4 });
    expect(rec.status).toBe('succeeded');
    expect(rec.output).toEqual({ c: { result: 10 } });
    expect(rec.nodes.b!.output).toBe(10);
    expect(rec.nodes.a!.attempts).toHaveLength(1);
    const evs = await h.events(rec.id);
    expect(evs.map((e) => e.seq)).toEqual(evs.map((_, i) => i + 1));
    expect(types(evs)).toEqual([
      'run.queued',
      'run.started',
      'node.queued:a',
      'node.started:a',
      'node.succeeded:a',
      'node.queued:b',
      'node.started:b',
      'node.succeeded:b',
      'node.queued:c',
      'node.started:c',
      'node.succeeded:c',
      'run.succeeded',
    ]);
    // Waiting for a finished run answers at once with its record; for no run, RUN_NOT_FOUND.
    expect((await h.engine.waitForRun(rec.id)).nodes.c!.output).toEqual({ result: 10 });
    await expect(h.engine.waitForRun('run_nope')).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
  });

  it('rejects input that violates inputSchema before anything runs', async () => {
    h = await harness();
    const wf = await h.save({
      name: 'typed',
      inputSchema: { type: 'object', required: ['query'], properties: { query: { type: 'string' } } },
      nodes: [{ id: 'a', type: 'transform', expression: '$context.query' }],
    });
    await expect(h.engine.startRun({ workflowId: wf, version: 1, input: { query: 5 } })).rejects.toMatchObject({
      code: 'INPUT_INVALID',
    });
    expect((await h.engine.listRuns({ limit: 10 })).runs).toHaveLength(0);
  });

  it('runs parallel branches and joins them: A→(B,C)→D', async () => {
    const order: string[] = [];
    const slow = tool(async (input) => {
      order.push(`start:${JSON.stringify(input)}`);
      await new Promise((r) => setTimeout(r, 30));
      order.push(`end:${JSON.stringify(input)}`);
      return { got: input };
    });
    h = await harness({ tools: { slow } });
    const wf = await h.save({
      name: 'diamond',
      nodes: [
        { id: 'a', type: 'parallel' },
        { id: 'b', type: 'tool_call', tool: 'slow', input: { which: 'b' } },
        { id: 'c', type: 'tool_call', tool: 'slow', input: { which: 'c' } },
        { id: 'd', type: 'join' },
      ],
      edges: [
        { from: 'a', to: 'b' },
        { from: 'a', to: 'c' },
        { from: 'b', to: 'd' },
        { from: 'c', to: 'd' },
      ],
    });
    const rec = await h.run(wf);
    expect(rec.status).toBe('succeeded');
    expect(order.slice(0, 2).every((s) => s.startsWith('start'))).toBe(true); // both started before either ended
    expect(rec.nodes.d!.output).toEqual({ b: { got: { which: 'b' } }, c: { got: { which: 'c' } } });
  });

  it('branches on a condition and skips the branch not taken; join any runs', async () => {
    h = await harness();
    const wf = await h.save({
      name: 'branch',
      nodes: [
        { id: 'check', type: 'condition', expression: '$context.x > 10' },
        { id: 'big', type: 'transform', expression: "'big'" },
        { id: 'small', type: 'transform', expression: "'small'" },
        { id: 'after_small', type: 'transform', expression: '$small' },
        { id: 'done', type: 'join', mode: 'any' },
      ],
      edges: [
        { from: 'check', to: 'big', condition: '$check.value = true' },
        { from: 'check', to: 'small', condition: '$check.value = false' },
        { from: 'small', to: 'after_small' },
        { from: 'big', to: 'done' },
        { from: 'after_small', to: 'done' },
      ],
      output: { result: '$big', other: '$after_small' },
    });
    const rec = await h.run(wf, { x: 50 });
    expect(rec.status).toBe('succeeded');
    expect(rec.nodes.small!.status).toBe('skipped');
    expect(rec.nodes.after_small!.status).toBe('skipped'); // skip propagates through a plain node
    expect(rec.nodes.done!.status).toBe('succeeded');
    expect(rec.nodes.done!.output).toEqual({ big: 'big' });
    expect(rec.output).toEqual({ result: 'big', other: null });
  });

  it('fails the run when a node fails with onError fail, cancelling what is outstanding', async () => {
    const boom = tool(() => {
      throw new TrellisError('HTTP_400', 'bad request');
    });
    let signalled = false;
    const hang = {
      calls: 0,
      execute: (_i: unknown, ctx: { signal: AbortSignal }) =>
        new Promise<never>(() => {
          ctx.signal.addEventListener('abort', () => {
            signalled = true;
          });
        }),
    };
    h = await harness({ tools: { boom, hang } });
    const wf = await h.save({
      name: 'fail',
      nodes: [
        { id: 'start', type: 'parallel' },
        { id: 'bad', type: 'tool_call', tool: 'boom', retry: { maxAttempts: 3, initialDelayMs: 1 } },
        { id: 'slow', type: 'tool_call', tool: 'hang' },
      ],
      edges: [
        { from: 'start', to: 'bad' },
        { from: 'start', to: 'slow' },
      ],
    });
    const rec = await h.run(wf);
    expect(rec.status).toBe('failed');
    expect(rec.error).toMatchObject({ code: 'HTTP_400' });
    expect(boom.calls).toBe(1); // a 4xx-like non-retryable error is not retried
    expect(rec.nodes.slow!.status).toBe('cancelled');
    expect(signalled).toBe(true);
  });
});

describe('event subscription', () => {
  it('replays after a seq, then streams live, with no gap and no duplicate at the seam', async () => {
    const slowish = tool(async () => {
      await new Promise((r) => setTimeout(r, 2));
      return 1;
    });
    h = await harness({ tools: { slowish } });
    const nodes = Array.from({ length: 30 }, (_, i) => ({ id: `n${i}`, type: 'tool_call' as const, tool: 'slowish' }));
    const wf = await h.save({ name: 'stream', nodes, edges: nodes.slice(1).map((n, i) => ({ from: `n${i}`, to: n.id })) });
    const { runId } = await h.engine.startRun({ workflowId: wf, version: 1, input: {} });
    // Subscribers join at different moments, from different seqs, while events are produced.
    const seen: number[][] = [];
    const done: Promise<void>[] = [];
    for (let k = 0; k < 6; k++) {
      await new Promise((r) => setTimeout(r, 8));
      const after = k * 3;
      const got: number[] = [];
      seen.push(got);
      done.push(
        new Promise((resolve) => {
          h!.engine.subscribe(runId, { after, onEvent: (e) => got.push(e.seq), onEnd: resolve });
        }),
      );
    }
    await Promise.all(done);
    const total = (await h.events(runId)).length;
    seen.forEach((got, k) => {
      const after = k * 3;
      expect(got).toEqual(Array.from({ length: total - after }, (_, i) => after + i + 1));
    });
  });
});
