import { TrellisError } from '@trellis/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/index.ts';
import { type Harness, harness, sleep, tool, waitForEvent } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const settle = () => sleep(20);

describe('retries, timeouts, budgets and gates', () => {
  it('retries with exact exponential backoff, then succeeds', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const flaky = tool(() => {
      calls++;
      if (calls < 3) throw TrellisError.retryable('HTTP_503', 'unavailable');
      return { ok: true };
    });
    h = await harness({ tools: { flaky }, clock });
    const wf = await h.save({
      name: 'retry',
      nodes: [
        {
          id: 'a',
          type: 'tool_call',
          tool: 'flaky',
          retry: { maxAttempts: 4, initialDelayMs: 1000, backoffFactor: 2, jitter: false },
        },
      ],
    });
    const { runId } = await h.engine.startRun({ workflowId: wf, version: 1, input: {} });
    await waitForEvent(h.engine, runId, (e) => e.type === 'node.retrying');
    await settle();
    expect(calls).toBe(1);
    await clock.advance(999);
    await settle();
    expect(calls).toBe(1);
    await clock.advance(1);
    await waitForEvent(h.engine, runId, (e) => e.type === 'node.retrying' && e.data.attempt === 2);
    await settle();
    expect(calls).toBe(2);
    await clock.advance(1999);
    await settle();
    expect(calls).toBe(2);
    await clock.advance(1);
    const rec = await h.engine.waitForRun(runId);
    expect(calls).toBe(3);
    expect(rec.status).toBe('succeeded');
    expect(rec.nodes.a!.attempts.map((a) => [a.attempt, a.status, a.error?.code])).toEqual([
      [1, 'failed', 'HTTP_503'],
      [2, 'failed', 'HTTP_503'],
      [3, 'succeeded', undefined],
    ]);
    const retrying = (await h.events(runId)).filter((e) => e.type === 'node.retrying');
    expect(retrying.map((e) => (e.data as { delayMs: number }).delayMs)).toEqual([1000, 2000]);
  });

  it('honours Retry-After when it asks for longer than the backoff', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const limited = tool(() => {
      calls++;
      if (calls === 1) throw new TrellisError('HTTP_429', 'slow down', { retryable: true, retryAfterMs: 7000 });
      return 'ok';
    });
    h = await harness({ tools: { limited }, clock });
    const wf = await h.save({
      name: 'ra',
      nodes: [{ id: 'a', type: 'tool_call', tool: 'limited', retry: { maxAttempts: 2, initialDelayMs: 100, jitter: false } }],
    });
    const { runId } = await h.engine.startRun({ workflowId: wf, version: 1, input: {} });
    const ev = await waitForEvent(h.engine, runId, (e) => e.type === 'node.retrying');
    expect((ev.data as { delayMs: number }).delayMs).toBe(7000);
    await settle();
    await clock.advance(6999);
    await settle();
    expect(calls).toBe(1);
    await clock.advance(1);
    expect((await h.engine.waitForRun(runId)).status).toBe('succeeded');
  });

  it('fails an attempt that exceeds timeoutMs even when the executor ignores its signal', async () => {
    const clock = new ManualClock();
    const deaf = { execute: () => new Promise<never>(() => {}) };
    h = await harness({ tools: { deaf }, clock });
    const wf = await h.save({ name: 'to', nodes: [{ id: 'a', type: 'tool_call', tool: 'deaf', timeoutMs: 5000 }] });
    const { runId } = await h.engine.startRun({ workflowId: wf, version: 1, input: {} });
    await waitForEvent(h.engine, runId, (e) => e.type === 'node.started');
    await settle();
    await clock.advance(5000);
    const rec = await h.engine.waitForRun(runId);
    expect(rec.status).toBe('failed');
    expect(rec.nodes.a!.error?.code).toBe('TIMEOUT');
  });

  it("fails the run at settings.timeoutMs (the run's deadline)", async () => {
    const clock = new ManualClock();
    const deaf = { execute: () => new Promise<never>(() => {}) };
    h = await harness({ tools: { deaf }, clock });
    const wf = await h.save({
      name: 'deadline',
      settings: { timeoutMs: 60_000 },
      nodes: [{ id: 'a', type: 'tool_call', tool: 'deaf' }],
    });
    const { runId } = await h.engine.startRun({ workflowId: wf, version: 1, input: {} });
    await waitForEvent(h.engine, runId, (e) => e.type === 'node.started');
    await clock.advance(60_000);
    const rec = await h.engine.waitForRun(runId);
    expect(rec.status).toBe('failed');
    expect(rec.error?.code).toBe('RUN_TIMEOUT');
    expect(rec.nodes.a!.status).toBe('cancelled');
  });

  it('fails with BUDGET_EXCEEDED once the summed cost passes maxCostUsd', async () => {
    const pricey = {
      calls: 0,
      async execute(_i: unknown, ctx: { reportCost(c: { costUsd: number }): void }) {
        pricey.calls++;
        ctx.reportCost({ costUsd: 0.3 });
        return {
          kind: 'succeeded' as const,
          output: pricey.calls,
          cost: { costUsd: 0.1, usage: { inputTokens: 10, outputTokens: 5 } },
        };
      },
    };
    h = await harness({ tools: { pricey } });
    const wf = await h.save({
      name: 'budget',
      settings: { maxCostUsd: 1 },
      nodes: [
        { id: 'a', type: 'tool_call', tool: 'pricey' },
        { id: 'b', type: 'tool_call', tool: 'pricey' },
        { id: 'c', type: 'tool_call', tool: 'pricey' },
      ],
      edges: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c' },
      ],
    });
    const rec = await h.run(wf);
    expect(rec.status).toBe('failed');
    expect(rec.error?.code).toBe('BUDGET_EXCEEDED');
    expect(rec.costUsd).toBeCloseTo(1.2);
    expect(rec.nodes.a!.costUsd).toBeCloseTo(0.4);
    expect(rec.nodes.a!.attempts[0]!.usage).toEqual({ inputTokens: 10, outputTokens: 5 });
    const costs = (await h.events(rec.id))
      .filter((e) => e.type === 'run.cost')
      .map((e) => (e.data as { totalUsd: number }).totalUsd);
    expect(costs.map((c) => Math.round(c * 10) / 10)).toEqual([0.4, 0.8, 1.2]);
  });

  it('routes on $node.error with onError continue, and the run succeeds', async () => {
    const boom = tool(() => {
      throw new TrellisError('HTTP_404', 'no such thing');
    });
    h = await harness({ tools: { boom } });
    const wf = await h.save({
      name: 'continue',
      nodes: [
        { id: 'fetch', type: 'tool_call', tool: 'boom', onError: 'continue' },
        { id: 'fallback', type: 'transform', expression: "'used fallback: ' & $fetch.error.code" },
        { id: 'happy', type: 'transform', expression: "'fine'" },
      ],
      edges: [
        { from: 'fetch', to: 'fallback', condition: '$exists($fetch.error)' },
        { from: 'fetch', to: 'happy', condition: '$not($exists($fetch.error))' },
      ],
    });
    const rec = await h.run(wf);
    expect(rec.status).toBe('succeeded');
    expect(rec.nodes.fetch!.status).toBe('failed');
    expect(rec.nodes.fetch!.output).toEqual({ error: { code: 'HTTP_404', message: 'no such thing' } });
    expect(rec.nodes.fallback!.output).toBe('used fallback: HTTP_404');
    expect(rec.nodes.happy!.status).toBe('skipped');
  });

  it('skipped predecessor: a plain node is skipped but a join all still runs', async () => {
    h = await harness();
    const wf = await h.save({
      name: 'skip-vs-join',
      nodes: [
        { id: 'start', type: 'parallel' },
        { id: 'yes', type: 'transform', expression: '1' },
        { id: 'no', type: 'transform', expression: '2' },
        { id: 'plain', type: 'transform', expression: '$yes' },
        { id: 'joined', type: 'join' },
      ],
      edges: [
        { from: 'start', to: 'yes' },
        { from: 'start', to: 'no', condition: 'false' },
        { from: 'yes', to: 'plain' },
        { from: 'no', to: 'plain' },
        { from: 'yes', to: 'joined' },
        { from: 'no', to: 'joined' },
      ],
    });
    const rec = await h.run(wf);
    expect(rec.nodes.no!.status).toBe('skipped');
    expect(rec.nodes.plain!.status).toBe('skipped');
    expect(rec.nodes.joined!.status).toBe('succeeded');
    expect(rec.nodes.joined!.output).toEqual({ yes: 1 });
  });

  it('pauses at a human gate durably and resumes on approval; of two decisions one wins', async () => {
    h = await harness();
    const wf = await h.save({
      name: 'gate',
      nodes: [
        { id: 'pick', type: 'transform', expression: "{ 'name': 'Hotel Uno' }" },
        { id: 'approve', type: 'human_gate', prompt: 'Book {{ $pick.name }}?' },
        { id: 'book', type: 'transform', expression: "'booked ' & $pick.name & ' for ' & $approve.data.nights & ' nights'" },
      ],
      edges: [
        { from: 'pick', to: 'approve' },
        { from: 'approve', to: 'book' },
      ],
    });
    const waiting = await h.run(wf, {}, { orWaiting: true });
    expect(waiting.status).toBe('waiting');
    expect(waiting.nodes.approve!.status).toBe('waiting');
    expect(waiting.nodes.approve!.prompt).toBe('Book Hotel Uno?');
    expect(h.engine.hotRuns).toBe(0); // a waiting run lives only in the database
    const [a, b] = await Promise.all([
      h.engine.decideGate(waiting.id, 'approve', { approved: true, by: 'alice', data: { nights: 2 } }),
      h.engine.decideGate(waiting.id, 'approve', { approved: false, by: 'bob' }),
    ]);
    expect([a.ok, b.ok].sort()).toEqual([false, true]);
    const rec = await h.engine.waitForRun(waiting.id);
    expect(rec.status).toBe('succeeded');
    expect(rec.nodes.approve!.output).toEqual({ approved: true, by: 'alice', comment: null, data: { nights: 2 } });
    expect(rec.nodes.book!.output).toBe('booked Hotel Uno for 2 nights');
    expect(await h.engine.decideGate(waiting.id, 'approve', { approved: true, by: 'carol' })).toEqual({
      ok: false,
      reason: 'not_waiting',
    });
    expect(await h.engine.decideGate('nope', 'approve', { approved: true, by: 'carol' })).toEqual({
      ok: false,
      reason: 'run_not_found',
    });
  });

  it('a rejected gate fails the node with GATE_REJECTED; a gate timeout decides by onTimeout', async () => {
    const clock = new ManualClock();
    h = await harness({ clock, engine: { pollMs: 100 } });
    const wf = await h.save({ name: 'gate2', nodes: [{ id: 'g', type: 'human_gate', prompt: 'ok?' }] });
    const r1 = await h.run(wf, {}, { orWaiting: true });
    await h.engine.decideGate(r1.id, 'g', { approved: false, by: 'bob', comment: 'too pricey' });
    const done1 = await h.engine.waitForRun(r1.id);
    expect(done1.status).toBe('failed');
    expect(done1.nodes.g!.error).toMatchObject({ code: 'GATE_REJECTED' });

    const wf2 = await h.save({
      name: 'gate3',
      nodes: [{ id: 'g', type: 'human_gate', prompt: 'ok?', timeoutMs: 10_000, onTimeout: 'approve' }],
    });
    const r2 = await h.run(wf2, {}, { orWaiting: true });
    await clock.advance(10_100);
    const done2 = await h.engine.waitForRun(r2.id);
    expect(done2.status).toBe('succeeded');
    expect(done2.nodes.g!.output).toMatchObject({ approved: true, by: 'trellis:timeout' });
  });

  it('cancels mid-run promptly, aborting running executors (their input is recorded)', async () => {
    let aborted = false;
    let called!: () => void;
    const calledP = new Promise<void>((r) => {
      called = r;
    });
    const hang = {
      execute: (_i: unknown, ctx: { signal: AbortSignal }) =>
        new Promise<never>((_, reject) => {
          called();
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
            reject(ctx.signal.reason);
          });
        }),
    };
    h = await harness({ tools: { hang } });
    const wf = await h.save({
      name: 'cancel',
      nodes: [
        { id: 'a', type: 'tool_call', tool: 'hang', input: { q: '$context.q' } },
        { id: 'b', type: 'transform', expression: '1' },
      ],
      edges: [{ from: 'a', to: 'b' }],
    });
    const { runId } = await h.engine.startRun({ workflowId: wf, version: 1, input: { q: 'hello' } });
    await calledP;
    await h.engine.cancelRun(runId, 'user asked');
    const rec = await h.engine.waitForRun(runId);
    expect(rec.status).toBe('cancelled');
    expect(aborted).toBe(true);
    expect(rec.nodes.a!.status).toBe('cancelled');
    expect(rec.nodes.b!.status).toBe('cancelled');
    expect(rec.nodes.a!.attempts[0]!.status).toBe('cancelled');
    // The cancelled node's input is what its executor was given (not null).
    expect(rec.nodes.a!.input).toEqual({ q: 'hello' });
  });

  it('respects settings.maxConcurrency', async () => {
    let running = 0;
    let peak = 0;
    const work = tool(async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep(5);
      running--;
      return 1;
    });
    h = await harness({ tools: { work } });
    const nodes = [
      { id: 'start', type: 'parallel' as const },
      ...Array.from({ length: 12 }, (_, i) => ({ id: `w${i}`, type: 'tool_call' as const, tool: 'work' })),
    ];
    const wf = await h.save({
      name: 'conc',
      settings: { maxConcurrency: 3 },
      nodes,
      edges: nodes.slice(1).map((n) => ({ from: 'start', to: n.id })),
    });
    const rec = await h.run(wf);
    expect(rec.status).toBe('succeeded');
    expect(work.calls).toBe(12);
    expect(peak).toBe(3);
  });

  it('fails a node whose output is over the size cap, without storing it', async () => {
    const big = tool(() => 'x'.repeat(2000));
    h = await harness({ tools: { big }, engine: { maxOutputBytes: 1000 } });
    const wf = await h.save({ name: 'big', nodes: [{ id: 'a', type: 'tool_call', tool: 'big' }] });
    const rec = await h.run(wf);
    expect(rec.status).toBe('failed');
    expect(rec.nodes.a!.error?.code).toBe('OUTPUT_TOO_LARGE');
    expect(rec.nodes.a!.output).toBeNull();
    const size = h.handle.raw.prepare('select sum(length(data)) from events where run_id = ?').pluck().get(rec.id) as number;
    expect(size).toBeLessThan(2000);
  });

  it('stops a runaway expression with EXPRESSION_ERROR and keeps serving other runs', async () => {
    h = await harness();
    const wf = await h.save({
      name: 'runaway',
      nodes: [{ id: 'loop', type: 'transform', expression: '($f := function($x){ $f($x + 1) }; $f(0))' }],
    });
    const ok = await h.save({ name: 'ok', nodes: [{ id: 'a', type: 'transform', expression: '42' }] });
    const [bad, good] = await Promise.all([h.run(wf), h.run(ok)]);
    expect(bad.status).toBe('failed');
    expect(bad.nodes.loop!.error?.code).toBe('EXPRESSION_ERROR');
    expect(good.status).toBe('succeeded');
  });
});
