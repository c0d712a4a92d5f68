/**
 * Cancelling a run whose node waits on remote work (an agent's question) is an explicit cancel:
 * the executor's `cancel` gets the stored remote reference and the reason; the executor is not
 * executed again with an invented decision, and no gate event is recorded.
 */
import type { CancelContext, Executor } from '@trellis/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, harness } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('explicit cancel of remote work', () => {
  it('a waiting node: cancel() with its remote reference, no second execution, recorded as cancelled', async () => {
    const executions: unknown[] = [];
    const cancels: CancelContext[] = [];
    const remote: Executor = {
      async execute(_input, ctx) {
        executions.push(ctx.decision ?? null);
        await ctx.saveRemoteRef({ task: 't-1' });
        return { kind: 'waiting', prompt: 'which colour?' };
      },
      async cancel(ctx) {
        cancels.push(ctx);
      },
    };
    h = await harness({ tools: { remote } });
    const wf = await h.save({ name: 'remote', nodes: [{ id: 'ask', type: 'tool_call', tool: 'remote' }] });
    const waiting = await h.run(wf, {}, { orWaiting: true });
    expect(waiting.status).toBe('waiting');
    await h.engine.cancelRun(waiting.id, 'not needed any more');
    const rec = await h.engine.waitForRun(waiting.id);
    expect(rec.status).toBe('cancelled');
    expect(rec.nodes.ask!.status).toBe('cancelled');
    expect(rec.nodes.ask!.attempts.map((a) => [a.status, a.error?.code])).toEqual([['cancelled', 'CANCELLED']]);
    for (let i = 0; i < 100 && cancels.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(cancels).toHaveLength(1);
    expect(cancels[0]).toMatchObject({
      runId: waiting.id,
      nodeId: 'ask',
      attempt: 1,
      remoteRef: { task: 't-1' },
      reason: 'not needed any more',
    });
    expect(executions).toEqual([null]); // executed once, never resumed with a made-up rejection
    const events = await h.events(waiting.id);
    expect(events.map((e) => e.type)).not.toContain('gate.rejected');
    expect(JSON.stringify(events)).not.toContain('GATE_REJECTED');
  });

  it('a node with no remote reference: nothing to cancel remotely', async () => {
    const cancels: CancelContext[] = [];
    const remote: Executor = {
      async execute() {
        return { kind: 'waiting', prompt: 'ok?' };
      },
      async cancel(ctx) {
        cancels.push(ctx);
      },
    };
    h = await harness({ tools: { remote } });
    const wf = await h.save({ name: 'remote', nodes: [{ id: 'ask', type: 'tool_call', tool: 'remote' }] });
    const waiting = await h.run(wf, {}, { orWaiting: true });
    await h.engine.cancelRun(waiting.id);
    expect((await h.engine.waitForRun(waiting.id)).status).toBe('cancelled');
    await new Promise((r) => setTimeout(r, 50));
    expect(cancels).toEqual([]);
  });
});
