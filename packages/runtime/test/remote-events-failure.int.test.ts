/**
 * A subscriber on one process following a run another process executes (PostgreSQL) is fed by
 * reads of the event log, one per "new events" notification. When such a read fails, the
 * subscriber is told (REPLAY_FAILED with the seq to resume after) instead of waiting for events
 * that never come. The failure is real: the server's database role loses the right to read the
 * events table while the worker keeps committing.
 */
import type { ErrorInfo, RunEvent } from '@trellis/core';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../store/test/helpers/postgres.ts';
import { type PgNode, pgNode, saveWorkflow } from './pg-harness.ts';

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 120_000);
afterAll(async () => {
  await server?.destroy();
});

async function sql(url: string, text: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

it('a failed read of events another worker committed ends the subscription with REPLAY_FAILED and where to resume', async () => {
  const url = await server.createDatabase('remote');
  const nodes: PgNode[] = [];
  try {
    const worker = await pgNode(url, { workerId: 'w1' });
    nodes.push(worker);
    // The server process connects as a role of its own, so its reads can fail alone.
    await sql(
      url,
      `create role watcher login password 'watcher';
       grant create, usage on schema public to watcher;
       grant all on all tables in schema public to watcher;
       grant all on all sequences in schema public to watcher;
       grant execute on all functions in schema public to watcher`,
    );
    const watcherUrl = new URL(url);
    watcherUrl.username = 'watcher';
    watcherUrl.password = 'watcher';
    const api = await pgNode(watcherUrl.toString(), { execute: false, workerId: 'api' });
    nodes.push(api);
    const wf = await saveWorkflow(api.store, {
      name: 'gated',
      nodes: [
        { id: 'a', type: 'transform', expression: '1' },
        { id: 'g', type: 'human_gate', prompt: 'go?' },
        { id: 'b', type: 'transform', expression: '2' },
      ],
      edges: [
        { from: 'a', to: 'g' },
        { from: 'g', to: 'b' },
      ],
    });
    const { runId } = await api.engine.startRun({ workflowId: wf, version: 1, input: {} });
    expect((await api.engine.waitForRun(runId, { orWaiting: true })).status).toBe('waiting');

    const seen: RunEvent[] = [];
    let failed: ErrorInfo | undefined;
    let ended = false;
    api.engine.subscribe(runId, {
      after: 0,
      onEvent: (e) => seen.push(e),
      onEnd: () => {
        ended = true;
      },
      onError: (e) => {
        failed = e;
      },
    });
    await expect.poll(() => seen.at(-1)?.type).toBe('run.waiting');
    const last = seen.at(-1)!.seq;

    await sql(url, 'revoke select on events from watcher');
    // The worker executes the rest and commits; its notification makes the server read the log.
    expect(await worker.engine.decideGate(runId, 'g', { approved: true, by: 'alice' })).toEqual({ ok: true });
    expect((await worker.engine.waitForRun(runId)).status).toBe('succeeded');
    await expect
      .poll(() => failed, { timeout: 10_000 })
      .toMatchObject({
        code: 'REPLAY_FAILED',
        retryable: true,
        details: { resumeAfter: last },
      });
    expect(seen.at(-1)!.seq).toBe(last);
    expect(ended).toBe(false);

    // Readable again: subscribing from resumeAfter gets the rest, to the end, with no gap.
    await sql(url, 'grant select on events to watcher');
    const rest: RunEvent[] = [];
    await new Promise<void>((resolve, reject) => {
      api.engine.subscribe(runId, {
        after: last,
        onEvent: (e) => rest.push(e),
        onEnd: resolve,
        onError: (e) => reject(new Error(e.message)),
      });
    });
    expect(rest.map((e) => e.seq)).toEqual(rest.map((_, i) => last + 1 + i));
    expect(rest.at(-1)?.type).toBe('run.succeeded');
  } finally {
    for (const n of nodes.reverse()) await n.close();
  }
});
