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

/** A worker, and a server process connected as a role of its own (so its reads can fail alone). */
async function twoProcesses(nodes: PgNode[], name: string) {
  const url = await server.createDatabase(name);
  const role = `watcher_${name}`;
  const worker = await pgNode(url, { workerId: 'w1' });
  nodes.push(worker);
  await sql(
    url,
    `create role ${role} login password 'watcher';
     grant create, usage on schema public to ${role};
     grant all on all tables in schema public to ${role};
     grant all on all sequences in schema public to ${role};
     grant execute on all functions in schema public to ${role}`,
  );
  const watcherUrl = new URL(url);
  watcherUrl.username = role;
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
  return { url, role, worker, api, runId };
}

it('a failed read of events another worker committed ends the subscription with REPLAY_FAILED and where to resume', async () => {
  const nodes: PgNode[] = [];
  try {
    const { url, role, worker, api, runId } = await twoProcesses(nodes, 'remote');
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

    await sql(url, `revoke select on events from ${role}`);
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
    await sql(url, `grant select on events to ${role}`);
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

it('notifications missed while the listening connection was down: the subscriber still gets every event', async () => {
  const nodes: PgNode[] = [];
  try {
    const { url, role, worker, api, runId } = await twoProcesses(nodes, 'missed');
    const seen: RunEvent[] = [];
    let failed: ErrorInfo | undefined;
    api.engine.subscribe(runId, { after: 0, onEvent: (e) => seen.push(e), onError: (e) => (failed = e) });
    await expect.poll(() => seen.at(-1)?.type).toBe('run.waiting');

    // The server's listening connection drops and cannot come back for a while.
    await sql(url, `alter role ${role} nologin`);
    await sql(url, `select pg_terminate_backend(pid) from pg_stat_activity where usename = '${role}' and query ilike 'listen%'`);
    expect(await worker.engine.decideGate(runId, 'g', { approved: true, by: 'alice' })).toEqual({ ok: true });
    expect((await worker.engine.waitForRun(runId)).status).toBe('succeeded');
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.at(-1)?.type).toBe('run.waiting'); // its notification went nowhere
    await sql(url, `alter role ${role} login`);

    await expect.poll(() => seen.at(-1)?.type, { timeout: 15_000 }).toBe('run.succeeded');
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));
    expect(failed).toBeUndefined();
  } finally {
    for (const n of nodes.reverse()) await n.close();
  }
});
