/**
 * Retries on PostgreSQL with several processes' engines: a server that executes nothing creates
 * the retry, a worker claims it and runs only what was not reused; an irreversible node's
 * approval is decided through the server.
 */
import { type Executor, TrellisError } from '@trellis/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../store/test/helpers/postgres.ts';
import { pgNode, saveWorkflow } from './pg-harness.ts';

let pg: TestPostgres;
beforeAll(async () => {
  pg = await startPostgres();
}, 120_000);
afterAll(async () => {
  await pg?.destroy();
});

describe('retries on PostgreSQL', () => {
  it('a retry created by a server is run by a worker: reused nodes are not executed; the approval is decided remotely', async () => {
    const url = await pg.createDatabase('retry');
    const calls: Record<string, number> = {};
    let down = true;
    const step: Executor = {
      async execute(input, ctx) {
        calls[ctx.nodeId] = (calls[ctx.nodeId] ?? 0) + 1;
        if (ctx.nodeId === 'c' && down) throw new TrellisError('TOOL_ERROR', 'c is down');
        return { kind: 'succeeded', output: { node: ctx.nodeId, input }, cost: { costUsd: 0.1 } };
      },
    };
    const server = await pgNode(url, { execute: false });
    const worker = await pgNode(url, { tools: { step } });
    try {
      const wf = await saveWorkflow(server.store, {
        name: 'pay-then-notify',
        nodes: [
          { id: 'a', type: 'tool_call', tool: 'step' },
          { id: 'b', type: 'tool_call', tool: 'step', sideEffects: 'irreversible', input: { from: '$a.node' } },
          { id: 'c', type: 'tool_call', tool: 'step', input: { from: '$b.node' } },
        ],
        edges: [
          { from: 'a', to: 'b' },
          { from: 'b', to: 'c' },
        ],
      });
      const { runId } = await server.engine.startRun({ workflowId: wf, version: 1, input: {} });
      const failed = await server.engine.waitForRun(runId);
      expect(failed.status).toBe('failed');

      down = false;
      const retry = await server.engine.retryRun({ runId, createdBy: 'alice' });
      expect(retry).toMatchObject({ status: 'queued', created: true, reused: 2 });
      const done = await server.engine.waitForRun(retry.runId);
      expect(done.status).toBe('succeeded');
      expect(calls).toEqual({ a: 1, b: 1, c: 2 });
      expect(done.nodes.a!.reusedFrom).toBe(runId);
      expect(done.nodes.b!.reuseNote).toContain('irreversible');
      expect(done.costUsd).toBeCloseTo(0.1);
      expect(done.costSavedUsd).toBeCloseTo(0.2);
      expect((await server.engine.getRun(runId))!.retries).toEqual([retry.runId]);

      const again = await server.engine.retryRun({ runId: retry.runId, from: ['b'] });
      const waiting = await server.engine.waitForRun(again.runId, { orWaiting: true });
      expect(waiting.status).toBe('waiting');
      expect(waiting.nodes.b!.prompt).toContain('irreversible');
      expect(calls.b).toBe(1);
      expect(await server.engine.decideGate(again.runId, 'b', { approved: true, by: 'alice' })).toEqual({ ok: true });
      const approved = await server.engine.waitForRun(again.runId);
      expect(approved.status).toBe('succeeded');
      expect(calls).toEqual({ a: 1, b: 2, c: 3 });
      expect(approved.nodes.a!.reusedFrom).toBe(runId);
    } finally {
      await worker.close();
      await server.close();
    }
  }, 60_000);
});
