/**
 * One store suite, two dialects: every test below runs against a real SQLite file and a real
 * PostgreSQL server (throwaway, one database per test). The lease contract, which only
 * PostgreSQL implements, follows in its own block.
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ErrorInfo, RunEvent, RunStatus } from '@trellis/core';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addVersion,
  createTemplate,
  createToken,
  createWorkflow,
  deleteAgent,
  deleteToolServer,
  ensureAdmin,
  getAgent,
  getRole,
  getTemplate,
  getToolServer,
  getVersion,
  grant,
  insertAgent,
  insertToolServer,
  listAgents,
  listPermissions,
  listTemplates,
  listTokens,
  listToolServers,
  listVersions,
  listWorkflows,
  MIGRATIONS,
  type NewRun,
  openPostgres,
  openStore,
  type PostgresHandle,
  RECONNECTED,
  type RunLeaseStore,
  type RunWriteOp,
  revokeToken,
  type Store,
  StoreOpenError,
  setPermissions,
  softDelete,
  updateAgentCard,
  updateToolServerTools,
  upsertBuiltinTemplates,
  verifyToken,
} from '../../src/index.ts';
import { backfillLeaseLost } from '../../src/migrations/0018_lease_lost.ts';
import { lowerWrites } from '../../src/runs/mapping.ts';
import { batchDocument } from '../../src/runs/pg-run-store.ts';
import { findPostgresBin, startPostgres, type TestPostgres } from '../helpers/postgres.ts';

let server: Promise<TestPostgres> | undefined;
/** The PostgreSQL server for this file, started on first use (initdb once per file). */
export const pgServer = (): Promise<TestPostgres> => {
  server ??= startPostgres();
  return server;
};
afterAll(async () => {
  if (server) await (await server).destroy();
});

const DIALECTS = [
  { name: 'sqlite', open: () => openStore(join(mkdtempSync(join(tmpdir(), 'trellis-suite-')), 'trellis.db')) },
  { name: 'postgres', open: async () => openStore(await (await pgServer()).createDatabase('suite')) },
] as const;

const T0 = '2026-01-01T00:00:00.000Z';
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

/** An event in domain values (its data has quotes and a backslash, to check the encoding). */
function event(runId: string, seq: number, type = 'node.started', nodeId: string | null = 'a'): RunWriteOp {
  const e = { runId, seq, type, at: at(seq), data: { seq, text: "it's \\ 'quoted'" } } as RunEvent;
  if (nodeId !== null) e.nodeId = nodeId;
  return { op: 'run.event', event: e };
}

const T0MS = Date.parse(T0);

/** A queued run as the engine creates it (domain values; the store encodes them). */
function newRun(id: string, workflowId: string, extra: Partial<NewRun> = {}, idem?: NewRun['idempotency']): NewRun {
  return {
    id,
    workflowId,
    version: 1,
    input: { topic: 'x' },
    createdBy: 'alice',
    createdAt: T0MS,
    deadlineAt: null,
    claim: null,
    nodeIds: ['a', 'b'],
    events: [{ seq: 1, runId: id, type: 'run.queued', at: T0, data: { workflowId, version: 1 } }],
    ...(idem ? { idempotency: idem } : {}),
    ...extra,
  };
}

/** Creates a run, then moves it to `status` (as the runner would, by a run patch). */
async function create(store: Store, run: NewRun, status?: RunStatus): Promise<void> {
  await store.runs.createRun(run);
  if (status !== undefined) await store.runs.commit([{ op: 'run.patch', runId: run.id, patch: { status } }]);
}

const DEFINITION = { name: 'Demo', description: 'a demo', nodes: [{ id: 'a', type: 'noop' }], edges: [] };

describe.each(DIALECTS)('store on $name', (dialect) => {
  let store: Store;
  let wf: string;
  beforeEach(async () => {
    store = await dialect.open();
    wf = (await createWorkflow(store.db, { name: 'Demo', definition: DEFINITION, owner: 'alice' })).id;
  });
  afterEach(async () => {
    await store.close();
  });

  it('a retry is created with its prewritten node rows and copied attempts; both records link', async () => {
    await create(store, newRun('orig', wf), 'failed');
    await store.runs.commit([
      {
        op: 'node.patch',
        runId: 'orig',
        nodeId: 'a',
        patch: { status: 'succeeded', attempt: 1, output: { v: 1 }, costUsd: 0.5 },
      },
      {
        op: 'attempt.start',
        runId: 'orig',
        nodeId: 'a',
        attempt: 1,
        at: T0MS,
        workerId: 'w1',
        end: { status: 'succeeded', at: T0MS + 5, cost: { costUsd: 0.5 } },
      },
    ]);
    const past = await store.runs.readPastRun('orig');
    expect(past).toMatchObject({ id: 'orig', workflowId: wf, version: 1, status: 'failed', input: { topic: 'x' } });
    expect([...past!.nodes.keys()].sort()).toEqual(['a', 'b']);
    const a = past!.nodes.get('a')!;
    expect(a).toMatchObject({
      status: 'succeeded',
      attempt: 1,
      output: { v: 1 },
      costUsd: 0.5,
      reusedFrom: null,
      retryInfo: null,
    });
    await store.runs.createRun(
      newRun('again', wf, {
        createdAt: T0MS + 10,
        nodeIds: [],
        retry: {
          retryOf: 'orig',
          info: { version: 'same', fromVersion: 1, costSavedUsd: 0.5 },
          fromRunId: 'orig',
          nodes: [
            { ...a, nodeId: 'a', reusedFrom: 'orig', retryInfo: { costSavedUsd: 0.5 } },
            {
              ...a,
              nodeId: 'b',
              status: 'pending',
              attempt: 0,
              output: undefined,
              reusedFrom: null,
              retryInfo: { notReused: "'b' failed in run orig", approvalRequired: 'approve?' },
            },
          ],
        },
      }),
    );
    const rec = await store.runs.getRunRecord('again');
    expect(rec).toMatchObject({ retryOf: 'orig', costSavedUsd: 0.5, retries: [] });
    expect(rec!.nodes.a).toMatchObject({
      status: 'succeeded',
      reusedFrom: 'orig',
      costUsd: 0,
      costSavedUsd: 0.5,
      output: { v: 1 },
    });
    expect(rec!.nodes.a!.attempts).toEqual([
      { attempt: 1, status: 'succeeded', startedAt: T0, finishedAt: at(5), costUsd: 0.5, reusedFrom: 'orig' },
    ]);
    expect(rec!.nodes.b).toMatchObject({ status: 'pending', notReused: "'b' failed in run orig", approvalRequired: 'approve?' });
    expect((await store.runs.getRunRecord('orig'))!.retries).toEqual(['again']);
    const page = await store.runs.listRuns({ workflowId: wf, limit: 10 });
    expect(page.runs.find((r) => r.id === 'again')).toMatchObject({ retryOf: 'orig', costSavedUsd: 0.5 });
  });

  it('creates a run with its nodes and first events, and an idempotency key returns the same run', async () => {
    const first = await store.runs.createRun(newRun('r1', wf, {}, { scope: 'alice', key: 'k1' }));
    expect(first).toEqual({ runId: 'r1', created: true });
    const again = await store.runs.createRun(newRun('r2', wf, {}, { scope: 'alice', key: 'k1' }));
    expect(again).toEqual({ runId: 'r1', created: false });
    expect(await store.runs.getRunStatus('r2')).toBeUndefined();
    const other = await store.runs.createRun(newRun('r3', wf, {}, { scope: 'bob', key: 'k1' }));
    expect(other).toEqual({ runId: 'r3', created: true });
    const loaded = await store.runs.loadRun('r1');
    expect([...(loaded?.nodes ?? [])].map(([id, n]) => [id, n.status, n.attempt]).sort()).toEqual([
      ['a', 'pending', 0],
      ['b', 'pending', 0],
    ]);
    expect(loaded?.lastSeq).toBe(1);
  });

  it('creates a run without a key: every field, node and event reads back as written, and a failed create adds nothing', async () => {
    await create(store, newRun('parent', wf));
    const odd = ['a', 'with "quotes"', 'comma,brace{}', 'back\\slash', 'ünï ✓', 'NULL'];
    const input = { text: 'it\'s "quoted"\n\u0000-free ✓', n: 0.1 + 0.2, nested: { list: [1, null, true] } };
    const run = newRun('kid', wf, {
      input,
      createdBy: null,
      deadlineAt: T0MS + 60_000,
      claim: { workerId: 'w1', leaseExpiresAt: T0MS + 30_000 },
      parent: { runId: 'parent', nodeKey: 'per_item[2]', depth: 1 },
      traceParent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      nodeIds: odd,
      events: [
        { seq: 1, runId: 'kid', type: 'run.queued', at: T0, data: { workflowId: wf, version: 1 } },
        { seq: 2, runId: 'kid', type: 'node.queued', nodeId: 'with "quotes"', at: T0, data: {} },
      ],
    });
    expect(await store.runs.createRun(run)).toEqual({ runId: 'kid', created: true });
    const rec = await store.runs.getRunRecord('kid');
    expect(rec).toMatchObject({
      id: 'kid',
      workflowId: wf,
      version: 1,
      status: 'queued',
      input,
      output: null,
      error: null,
      costUsd: 0,
      createdBy: null,
      lastSeq: 2,
      parentRunId: 'parent',
      parentNodeId: 'per_item',
      parentItem: 2,
    });
    expect(Object.keys(rec!.nodes).sort()).toEqual([...odd].sort());
    for (const n of Object.values(rec!.nodes)) expect(n).toMatchObject({ status: 'pending', costUsd: 0, attempts: [] });
    expect(await store.runs.readEvents('kid', 0, 10)).toEqual(run.events);
    const loaded = await store.runs.loadRun('kid');
    expect(loaded).toMatchObject({ deadlineAt: T0MS + 60_000, traceParent: run.traceParent, depth: 1 });
    // All or nothing: a second run with the same id adds nothing (no node rows, no events).
    await expect(store.runs.createRun({ ...run, nodeIds: ['zzz'], events: [{ ...run.events[0]!, seq: 3 }] })).rejects.toThrow();
    expect(Object.keys((await store.runs.getRunRecord('kid'))!.nodes)).not.toContain('zzz');
    expect(await store.runs.readEvents('kid', 2, 10)).toEqual([]);
  });

  it('concurrent starts with one idempotency key create exactly one run', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.runs.createRun(newRun(`c${i}`, wf, {}, { scope: 's', key: 'same' }))),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.runId)).size).toBe(1);
  });

  it('commits every op kind in one batch, and reads them back with the same types', async () => {
    await store.runs.createRun(newRun('r1', wf));
    const ops: RunWriteOp[] = [
      { op: 'run.patch', runId: 'r1', patch: { status: 'running', startedAt: T0MS + 1, costUsd: 0.25 } },
      {
        op: 'node.patch',
        runId: 'r1',
        nodeId: 'a',
        patch: { status: 'running', attempt: 1, input: { x: 1 }, startedAt: T0MS + 1 },
      },
      { op: 'attempt.start', runId: 'r1', nodeId: 'a', attempt: 1, at: T0MS + 1, workerId: 'w1' },
      event('r1', 2, 'node.started'),
      {
        op: 'attempt.end',
        runId: 'r1',
        nodeId: 'a',
        attempt: 1,
        end: { status: 'failed', at: T0MS + 2, error: { code: 'TIMEOUT', message: 'slow' }, cost: { costUsd: 0.125 } },
      },
      {
        op: 'node.patch',
        runId: 'r1',
        nodeId: 'a',
        patch: { status: 'retrying', nextAttemptAt: T0MS + 500, costUsd: 0.125, prompt: 'Approve?' },
      },
      event('r1', 3, 'node.failed'),
      event('r1', 4, 'node.retrying'),
    ];
    await store.runs.commit(ops);

    const loaded = await store.runs.loadRun('r1');
    expect(loaded?.lastSeq).toBe(4);
    expect(loaded?.status).toBe('running');
    expect(typeof loaded?.version).toBe('number');
    expect(loaded?.costUsd).toBe(0.25);
    expect(loaded?.cancelRequested).toBe(false);
    const a = loaded?.nodes.get('a');
    expect(a).toMatchObject({ status: 'retrying', attempt: 1, nextAttemptAt: Date.parse(at(500)), costUsd: 0.125 });
    expect((await store.runs.readPastRun('r1'))?.nodes.get('a')?.input).toEqual({ x: 1 });

    const rec = await store.runs.getRunRecord('r1');
    expect(rec).toMatchObject({
      id: 'r1',
      workflowId: wf,
      version: 1,
      status: 'running',
      input: { topic: 'x' },
      costUsd: 0.25,
      lastSeq: 4,
      createdBy: 'alice',
      createdAt: T0,
      startedAt: at(1),
    });
    expect(rec?.nodes.a).toMatchObject({
      status: 'retrying',
      input: { x: 1 },
      prompt: 'Approve?',
      nextAttemptAt: at(500),
      attempts: [
        { attempt: 1, status: 'failed', startedAt: at(1), finishedAt: at(2), costUsd: 0.125, error: { code: 'TIMEOUT' } },
      ],
    });
    expect(rec?.nodes.b).toMatchObject({ status: 'pending', attempts: [] });
    expect(await store.runs.getRunRecord('nope')).toBeUndefined();
  });

  it('chain steps read back as written: node start, finish, start and finish in one batch, attempt ends; and patches of other shapes', async () => {
    await store.runs.createRun(newRun('r1', wf, { nodeIds: ['a', 'b', 'c', 'd'] }));
    // Step 1: a starts (a node start, an attempt inserted).
    await store.runs.commit([
      { op: 'run.patch', runId: 'r1', patch: { status: 'running', startedAt: T0MS + 1 } },
      { op: 'node.patch', runId: 'r1', nodeId: 'a', patch: { status: 'running', attempt: 1, startedAt: T0MS + 1 } },
      { op: 'attempt.start', runId: 'r1', nodeId: 'a', attempt: 1, at: T0MS + 1, workerId: 'w1' },
      event('r1', 2),
    ]);
    // Step 2, a tool step in a chain: a's attempt ends, a finishes, b starts.
    const aEnd = T0MS + 2;
    await store.runs.commit([
      { op: 'attempt.end', runId: 'r1', nodeId: 'a', attempt: 1, end: { status: 'succeeded', at: aEnd } },
      {
        op: 'node.patch',
        runId: 'r1',
        nodeId: 'a',
        patch: { status: 'succeeded', output: { it: "a's" }, error: null, costUsd: 0, finishedAt: aEnd, taken: [0] },
      },
      event('r1', 3, 'node.succeeded'),
      { op: 'node.patch', runId: 'r1', nodeId: 'b', patch: { status: 'running', attempt: 1, startedAt: aEnd } },
      { op: 'attempt.start', runId: 'r1', nodeId: 'b', attempt: 1, at: aEnd, workerId: 'w1' },
      event('r1', 4, 'node.started', 'b'),
    ]);
    // Step 3: b fails (an end with an error and a cost), c starts and finishes in the same
    // batch (a built-in node: its attempt's end lands with its insert), d starts with its input.
    const lost: ErrorInfo = { code: 'TOOL_FAILED', message: 'no', retryable: false };
    await store.runs.commit([
      {
        op: 'attempt.end',
        runId: 'r1',
        nodeId: 'b',
        attempt: 1,
        end: { status: 'failed', at: T0MS + 3, error: lost, cost: { costUsd: 0.5 } },
      },
      {
        op: 'node.patch',
        runId: 'r1',
        nodeId: 'b',
        patch: { status: 'failed', output: null, error: lost, costUsd: 0.5, finishedAt: T0MS + 3, taken: [] },
      },
      { op: 'node.patch', runId: 'r1', nodeId: 'c', patch: { status: 'running', attempt: 1, startedAt: T0MS + 3 } },
      { op: 'attempt.start', runId: 'r1', nodeId: 'c', attempt: 1, at: T0MS + 3, workerId: 'w1' },
      { op: 'attempt.end', runId: 'r1', nodeId: 'c', attempt: 1, end: { status: 'succeeded', at: T0MS + 4 } },
      {
        op: 'node.patch',
        runId: 'r1',
        nodeId: 'c',
        patch: { status: 'succeeded', output: 7, error: null, costUsd: 0, finishedAt: T0MS + 4, taken: [1, 2] },
      },
      {
        op: 'node.patch',
        runId: 'r1',
        nodeId: 'd',
        patch: { status: 'running', attempt: 2, startedAt: T0MS + 4, input: { x: 'y' } },
      },
      event('r1', 5, 'node.failed', 'b'),
    ]);
    const mid = await store.runs.getRunRecord('r1');
    expect(mid).toMatchObject({ status: 'running', startedAt: at(1), finishedAt: null });
    // The run finishes, giving its lease back (PostgreSQL: the run shapes of migration 0025).
    await store.runs.commit([
      {
        op: 'run.patch',
        runId: 'r1',
        patch: { status: 'succeeded', output: { done: 1 }, finishedAt: T0MS + 5, releaseLease: true },
      },
    ]);
    const rec = await store.runs.getRunRecord('r1');
    expect(rec).toMatchObject({ status: 'succeeded', output: { done: 1 }, startedAt: at(1), finishedAt: at(5) });
    expect(rec?.nodes.a).toMatchObject({
      status: 'succeeded',
      output: { it: "a's" },
      error: null,
      costUsd: 0,
      startedAt: at(1),
      finishedAt: at(2),
      attempts: [{ attempt: 1, status: 'succeeded', startedAt: at(1), finishedAt: at(2) }],
    });
    expect(rec?.nodes.b).toMatchObject({
      status: 'failed',
      costUsd: 0.5,
      error: lost,
      startedAt: at(2),
      finishedAt: at(3),
      attempts: [{ attempt: 1, status: 'failed', startedAt: at(2), finishedAt: at(3), costUsd: 0.5, error: lost }],
    });
    expect(rec?.nodes.c).toMatchObject({
      status: 'succeeded',
      output: 7,
      startedAt: at(3),
      finishedAt: at(4),
      attempts: [{ attempt: 1, status: 'succeeded', startedAt: at(3), finishedAt: at(4) }],
    });
    expect(rec?.nodes.d).toMatchObject({ status: 'running', input: { x: 'y' }, startedAt: at(4), finishedAt: null });
    expect(rec?.nodes.a?.attempts[0]?.error).toBeUndefined();
    const loaded = await store.runs.loadRun('r1');
    expect([...(loaded?.nodes.values() ?? [])].map((n) => n.attempt)).toEqual([1, 1, 1, 2]);
    expect(loaded?.nodes.get('a')?.taken).toEqual([0]);
    expect(loaded?.nodes.get('c')?.taken).toEqual([1, 2]);
    expect(loaded?.nodes.get('b')?.taken).toEqual([]);
  });

  it('a batch with a failing operation changes nothing', async () => {
    await store.runs.createRun(newRun('r1', wf));
    const bad: RunWriteOp[] = [
      { op: 'run.patch', runId: 'r1', patch: { status: 'running' } },
      event('r1', 2),
      event('r1', 1), // seq 1 exists: primary key violation
    ];
    await expect(store.runs.commit(bad)).rejects.toThrow();
    expect(await store.runs.getRunStatus('r1')).toBe('queued');
    expect((await store.runs.readEvents('r1', 0, 10)).map((e) => e.seq)).toEqual([1]);
    await store.runs.commit([]);
  });

  it('reads events in seq order, paged, with their data and node id', async () => {
    await store.runs.createRun(newRun('r1', wf));
    await store.runs.createRun(newRun('r2', wf));
    const ops: RunWriteOp[] = [];
    for (let s = 30; s >= 2; s--) ops.push(event('r1', s, 'node.started', s % 2 ? 'a' : null));
    ops.push(event('r2', 2));
    await store.runs.commit(ops);
    const page1 = await store.runs.readEvents('r1', 0, 10);
    expect(page1.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const page2 = await store.runs.readEvents('r1', 10, 100);
    expect(page2.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 11));
    expect(page2[0]).toEqual({
      seq: 11,
      runId: 'r1',
      type: 'node.started',
      at: at(11),
      nodeId: 'a',
      data: { seq: 11, text: "it's \\ 'quoted'" },
    });
    expect(page2[1]?.nodeId).toBeUndefined();
    expect(await store.runs.readEvents('r1', 30, 10)).toEqual([]);
    expect((await store.runs.loadRun('r1'))?.lastSeq).toBe(30);
  });

  it('lists resumable runs, due gate timeouts and due run deadlines', async () => {
    await store.runs.createRun(newRun('queued', wf));
    await create(store, newRun('running', wf), 'running');
    await create(store, newRun('done', wf), 'succeeded');
    await create(store, newRun('gate', wf, { deadlineAt: T0MS + 5_000 }), 'waiting');
    await create(store, newRun('decided', wf, { deadlineAt: T0MS + 50_000 }), 'waiting');
    await store.runs.commit([
      { op: 'node.patch', runId: 'gate', nodeId: 'a', patch: { status: 'waiting', waitUntil: T0MS + 1_000, prompt: 'ok?' } },
      { op: 'node.patch', runId: 'decided', nodeId: 'a', patch: { status: 'waiting', waitUntil: T0MS + 9_000 } },
    ]);
    expect(await store.runs.recordDecision('decided', 'a', { approved: true, by: 'alice' })).toBe(true);

    expect((await store.runs.listResumable()).sort()).toEqual(['decided', 'queued', 'running']);
    expect(await store.runs.dueGateTimeouts(Date.parse(T0) + 999, 10)).toEqual([]);
    expect(await store.runs.dueGateTimeouts(Date.parse(T0) + 1_000, 10)).toEqual([{ runId: 'gate', nodeId: 'a' }]);
    expect((await store.runs.dueGateTimeouts(Date.parse(T0) + 10_000, 10)).map((d) => d.runId).sort()).toEqual([
      'decided',
      'gate',
    ]);
    expect(await store.runs.dueGateTimeouts(Date.parse(T0) + 10_000, 1)).toHaveLength(1);
    expect(await store.runs.dueRunDeadlines(Date.parse(T0) + 4_999, 10)).toEqual([]);
    expect(await store.runs.dueRunDeadlines(Date.parse(T0) + 5_000, 10)).toEqual(['gate']);
    expect((await store.runs.dueRunDeadlines(Date.parse(T0) + 60_000, 10)).sort()).toEqual(['decided', 'gate']);
  });

  it('records exactly one of many concurrent gate decisions', async () => {
    await create(store, newRun('r1', wf), 'waiting');
    expect(await store.runs.recordDecision('r1', 'a', { approved: true, by: 'alice' })).toBe(false); // not waiting yet
    await store.runs.commit([{ op: 'node.patch', runId: 'r1', nodeId: 'a', patch: { status: 'waiting' } }]);
    const wins = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.runs.recordDecision('r1', 'a', { approved: true, by: `u${i}` })),
    );
    expect(wins.filter(Boolean)).toHaveLength(1);
    const winner = wins.indexOf(true);
    const node = (await store.runs.loadRun('r1'))?.nodes.get('a');
    expect(node?.decision).toEqual({ approved: true, by: `u${winner}` });
    expect(await store.runs.recordDecision('nope', 'a', { approved: true, by: 'alice' })).toBe(false);
  });

  it('counts lease losses per node when loading a run', async () => {
    await create(store, newRun('r1', wf), 'running');
    const lost = { code: 'LEASE_EXPIRED', message: 'worker gone', retryable: true };
    const start = (n: number) =>
      ({ op: 'attempt.start', runId: 'r1', nodeId: 'a', attempt: n, at: Date.parse(at(n)), workerId: 'w1' }) as const;
    const end = (n: number, leaseLost: boolean) =>
      ({
        op: 'attempt.end',
        runId: 'r1',
        nodeId: 'a',
        attempt: n,
        end: {
          status: 'failed',
          at: Date.parse(at(n + 1)),
          error: leaseLost ? lost : { code: 'TIMEOUT', message: 'slow' },
          leaseLost,
        },
      }) as const;
    // Lease loss is its own column: counted from it, in a batch that starts and ends the
    // attempt (folded) as in one that ends an attempt started earlier.
    await store.runs.commit([start(1), end(1, true)]);
    await store.runs.commit([start(2)]);
    await store.runs.commit([end(2, true), start(3)]);
    await store.runs.commit([end(3, false)]);
    // An error that merely reads like a lease loss is not one.
    await store.runs.commit([
      {
        ...start(4),
        end: { status: 'failed', at: T0MS + 5, error: { code: 'LEASE_EXPIRED', message: 'an executor said so' } },
      },
    ]);
    const loaded = await store.runs.loadRun('r1');
    expect(loaded?.nodes.get('a')?.leaseLosses).toBe(2);
    expect(loaded?.nodes.get('b')?.leaseLosses).toBe(0);
    expect(await store.runs.loadRun('nope')).toBeUndefined();
  });

  it('migration 0018 backfills lease losses recorded before the column existed', async () => {
    await create(store, newRun('r1', wf), 'running');
    // Rows as written before the column existed: the loss only in the error.
    const row = (n: number, error: ErrorInfo): RunWriteOp => ({
      op: 'attempt.start',
      runId: 'r1',
      nodeId: 'b',
      attempt: n,
      at: T0MS + n,
      workerId: null,
      end: { status: 'failed', at: T0MS + n + 1, error },
    });
    await store.runs.commit([
      row(1, { code: 'LEASE_EXPIRED', message: 'the worker running this attempt stopped; retrying', retryable: true }),
      row(2, { code: 'HTTP_503', message: 'down' }),
    ]);
    expect((await store.runs.loadRun('r1'))?.nodes.get('b')?.leaseLosses).toBe(0);
    await backfillLeaseLost(store.db);
    expect((await store.runs.loadRun('r1'))?.nodes.get('b')?.leaseLosses).toBe(1);
  });

  it('pages run history newest first by cursor, per workflow, and refuses a foreign cursor', async () => {
    const other = (await createWorkflow(store.db, { name: 'Other', definition: DEFINITION, owner: 'alice' })).id;
    for (let i = 0; i < 7; i++) await store.runs.createRun(newRun(`r${i}`, wf, { createdAt: T0MS + (i % 3) }));
    await store.runs.createRun(newRun('x1', other));
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await store.runs.listRuns({ workflowId: wf, limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...page.runs.map((r) => r.id));
      expect(page.runs.every((r) => r.lastSeq === 1 && typeof r.version === 'number')).toBe(true);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(['r5', 'r2', 'r4', 'r1', 'r6', 'r3', 'r0']);
    expect((await store.runs.listRuns({ limit: 100 })).runs).toHaveLength(8);
    await expect(store.runs.listRuns({ limit: 3, cursor: 'garbage!' })).rejects.toMatchObject({ code: 'INVALID_CURSOR' });
  });

  it('returns the stored definition of a workflow version', async () => {
    expect(await store.runs.getDefinition(wf, 1)).toEqual(DEFINITION);
    expect(await store.runs.getDefinition(wf, 2)).toBeUndefined();
  });

  it('workflows: versions, search, paging, soft delete', async () => {
    expect(await addVersion(store.db, wf, { ...DEFINITION, name: 'Demo v2' }, 'bob')).toBe(2);
    expect((await listVersions(store.db, wf)).map((v) => [v.version, v.createdBy])).toEqual([
      [2, 'bob'],
      [1, 'alice'],
    ]);
    expect((await getVersion(store.db, wf, 2))?.definition).toMatchObject({ name: 'Demo v2' });
    const b = await createWorkflow(store.db, { name: 'Billing 100%_done', definition: DEFINITION, owner: 'bob' });
    const byAlice = await listWorkflows(store.db, { principal: 'alice', isAdmin: false, limit: 10 });
    expect(byAlice.items.map((w) => w.id)).toEqual([wf]);
    const search = await listWorkflows(store.db, { principal: 'x', isAdmin: true, limit: 10, q: '100%_' });
    expect(search.items.map((w) => w.id)).toEqual([b.id]);
    const p1 = await listWorkflows(store.db, { principal: 'x', isAdmin: true, limit: 1 });
    const p2 = await listWorkflows(store.db, { principal: 'x', isAdmin: true, limit: 1, cursor: p1.nextCursor ?? '' });
    expect([...p1.items, ...p2.items].map((w) => w.id)).toEqual([b.id, wf]);
    expect(p2.nextCursor).toBeNull();
    expect(await softDelete(store.db, wf)).toBe(true);
    expect(await softDelete(store.db, wf)).toBe(false);
    expect(await addVersion(store.db, wf, DEFINITION, 'bob')).toBeUndefined();
  });

  it('tokens: create, verify, revoke, first-start admin', async () => {
    const first = await ensureAdmin(store.db);
    expect(first.created).toBe(true);
    expect(await ensureAdmin(store.db)).toEqual({ created: false });
    const { token, info } = await createToken(store.db, { principal: 'carol', name: 'laptop' });
    expect(await verifyToken(store.db, token)).toEqual({ name: 'carol', isAdmin: false, tokenId: info.id });
    expect((await listTokens(store.db, 'carol')).map((t) => [t.name, t.isAdmin])).toEqual([['laptop', false]]);
    expect(await revokeToken(store.db, info.id)).toBe(true);
    expect(await verifyToken(store.db, token)).toBeUndefined();
  });

  it('permissions: grant, replace, deny by default', async () => {
    expect(await getRole(store.db, wf, 'alice')).toBe('owner');
    expect(await getRole(store.db, wf, 'bob')).toBeUndefined();
    await grant(store.db, wf, 'bob', 'viewer');
    await grant(store.db, wf, 'bob', 'editor');
    expect(await listPermissions(store.db, wf)).toEqual([
      { principal: 'alice', role: 'owner' },
      { principal: 'bob', role: 'editor' },
    ]);
    expect(await setPermissions(store.db, wf, [{ principal: 'bob', role: 'viewer' }])).toMatchObject({ ok: false });
    expect(await setPermissions(store.db, wf, [{ principal: 'dave', role: 'owner' }])).toEqual({ ok: true });
    expect(await listPermissions(store.db, wf)).toEqual([{ principal: 'dave', role: 'owner' }]);
  });

  it('templates: built-ins upserted once, listed first, names in byte order', async () => {
    const builtins = [{ key: 'hello', name: 'hello', description: null, definition: DEFINITION }];
    await upsertBuiltinTemplates(store.db, builtins);
    await upsertBuiltinTemplates(store.db, [{ ...builtins[0]!, description: 'now described' }]);
    const mine = await createTemplate(store.db, { name: 'Zeta', definition: DEFINITION, createdBy: 'alice' });
    await createTemplate(store.db, { name: 'alpha', definition: DEFINITION, createdBy: 'alice' });
    const list = await listTemplates(store.db);
    expect(list.map((t) => [t.name, t.builtin])).toEqual([
      ['hello', true],
      ['Zeta', false],
      ['alpha', false],
    ]);
    expect(list[0]?.description).toBe('now described');
    expect((await getTemplate(store.db, mine.id))?.definition).toEqual(DEFINITION);
  });

  it('agents and tool servers: register, conflict, find, refresh, delete', async () => {
    const card = { name: 'Researcher', skills: [{ id: 'research' }] };
    const agent = await insertAgent(store.db, {
      name: 'researcher',
      url: 'http://127.0.0.1:1/',
      card,
      cardHash: 'h1',
      createdBy: 'alice',
    });
    await expect(
      insertAgent(store.db, { name: 'researcher', url: 'http://x/', card, cardHash: 'h', createdBy: 'alice' }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await getAgent(store.db, 'researcher'))?.id).toBe(agent.id);
    expect((await updateAgentCard(store.db, agent.id, { ...card, v: 2 }, 'h2'))?.cardHash).toBe('h2');
    expect((await listAgents(store.db)).map((a) => a.name)).toEqual(['researcher']);
    expect(await deleteAgent(store.db, agent.id)).toBe(true);
    expect(await getAgent(store.db, agent.id)).toBeUndefined();

    const tools = [{ name: 'price', inputSchema: { type: 'object' } }];
    const ts = await insertToolServer(store.db, {
      name: 'pricing',
      transport: 'stdio',
      command: 'node',
      args: ['server.js'],
      tools,
      createdBy: 'alice',
    });
    expect((await getToolServer(store.db, 'pricing'))?.args).toEqual(['server.js']);
    expect((await updateToolServerTools(store.db, ts.id, []))?.tools).toEqual([]);
    expect((await listToolServers(store.db)).map((t) => t.transport)).toEqual(['stdio']);
    expect(await deleteToolServer(store.db, ts.id)).toBe(true);
  });

  it('reports that it is (or is not) a multi-worker store', () => {
    if (dialect.name === 'postgres') expect(store.leases).toBeDefined();
    else expect(store.leases).toBeUndefined();
    expect(store.dialect).toBe(dialect.name);
  });
});

/** Waits until `check` holds (polling), failing with `what` after `ms`. */
async function until(check: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('leases on postgres', () => {
  let store: Store;
  let leases: RunLeaseStore;
  let wf: string;
  beforeEach(async () => {
    store = await openStore(await (await pgServer()).createDatabase('lease'));
    if (!store.leases) throw new Error('postgres store without leases');
    leases = store.leases;
    wf = (await createWorkflow(store.db, { name: 'Demo', definition: DEFINITION, owner: 'alice' })).id;
  });
  afterEach(async () => {
    await store.close();
  });

  it('workers claiming concurrently never get the same run', async () => {
    for (let i = 0; i < 40; i++) await store.runs.createRun(newRun(`r${String(i).padStart(2, '0')}`, wf));
    // One pool per worker, as in separate processes, connected before the race starts.
    const url = (store.handle as PostgresHandle).clientConfig.connectionString ?? '';
    const workers = await Promise.all(['w1', 'w2', 'w3', 'w4'].map(async (id) => ({ id, store: await openStore(url) })));
    try {
      await Promise.all(workers.map((w) => w.store.runs.getRunStatus('warm-up')));
      const claimed = new Map<string, string[]>(workers.map((w) => [w.id, []]));
      await Promise.all(
        workers.map(async (w) => {
          for (;;) {
            const got = await (w.store.leases as RunLeaseStore).claimRuns(w.id, 60_000, 2);
            if (got.length === 0) return;
            claimed.get(w.id)?.push(...got);
          }
        }),
      );
      const all = [...claimed.values()].flat();
      expect(all).toHaveLength(40);
      expect(new Set(all).size).toBe(40);
      expect([...claimed.values()].filter((ids) => ids.length > 0).length).toBeGreaterThan(1);
      const rows = await store.db.selectFrom('runs').select(['id', 'worker_id', 'lease_expires_at']).execute();
      for (const r of rows) expect(claimed.get(r.worker_id ?? '')).toContain(r.id);
      expect(rows.every((r) => r.lease_expires_at !== null && Date.parse(r.lease_expires_at) > Date.now())).toBe(true);
    } finally {
      await Promise.all(workers.map((w) => w.store.close()));
    }
  });

  it('treats a NULL lease as expired, and reclaims an expired lease; the old holder learns it lost it', async () => {
    await store.runs.createRun(newRun('r1', wf, { claim: { workerId: 'creator', leaseExpiresAt: null } }));
    expect(await leases.claimRuns('w1', 150, 10)).toEqual(['r1']);
    expect(await leases.claimRuns('w2', 60_000, 10)).toEqual([]);
    expect(await leases.renewLeases('w1', ['r1'], 150)).toEqual([]);
    await new Promise((r) => setTimeout(r, 300));
    expect(await leases.claimRuns('w2', 60_000, 10)).toEqual(['r1']);
    expect(await leases.renewLeases('w1', ['r1'], 60_000)).toEqual(['r1']);
    expect(await leases.releaseRun('w1', 'r1')).toBe(false);
    expect(await leases.releaseRun('w2', 'r1')).toBe(true);
    expect(await leases.claimRuns('w3', 60_000, 10)).toEqual(['r1']);
  });

  it('claimQueuedRuns (a "new run" wake-up) claims queued runs nobody holds or held, and nothing else', async () => {
    await create(store, newRun('new', wf));
    await create(store, newRun('held', wf, { claim: { workerId: 'w0', leaseExpiresAt: Date.now() + 60_000 } }));
    await create(store, newRun('lapsed', wf, { claim: { workerId: 'w0', leaseExpiresAt: Date.now() - 1_000 } }));
    await create(store, newRun('running', wf, { claim: { workerId: 'w0', leaseExpiresAt: Date.now() - 1_000 } }), 'running');
    await create(store, newRun('late', wf, { deadlineAt: T0MS }), 'waiting');
    expect(await leases.claimQueuedRuns('w1', 60_000, 10)).toEqual(['new']);
    expect(await leases.claimQueuedRuns('w2', 60_000, 10)).toEqual([]);
    expect(await leases.renewLeases('w1', ['new'], 60_000)).toEqual([]);
    // The full claim still finds the rest, the queued run whose lease lapsed among them.
    expect((await leases.claimRuns('w2', 60_000, 10)).sort()).toEqual(['lapsed', 'late', 'running']);
    // A run given back is new again.
    expect(await leases.releaseRun('w1', 'new')).toBe(true);
    expect(await leases.claimQueuedRuns('w3', 60_000, 10)).toEqual(['new']);
  });

  it('claims waiting runs only when they have something to do, and never finished runs', async () => {
    await create(store, newRun('idle', wf), 'waiting');
    await create(store, newRun('decided', wf), 'waiting');
    await create(store, newRun('timedout', wf), 'waiting');
    await create(store, newRun('late', wf, { deadlineAt: T0MS }), 'waiting');
    await create(store, newRun('cancel', wf), 'waiting');
    await create(store, newRun('done', wf), 'succeeded');
    const future = Date.now() + 3_600_000;
    await store.runs.commit([
      { op: 'node.patch', runId: 'idle', nodeId: 'a', patch: { status: 'waiting', waitUntil: future } },
      { op: 'node.patch', runId: 'decided', nodeId: 'a', patch: { status: 'waiting', waitUntil: future } },
      { op: 'node.patch', runId: 'timedout', nodeId: 'a', patch: { status: 'waiting', waitUntil: T0MS } },
    ]);
    expect((await leases.claimRuns('w1', 60_000, 10)).sort()).toEqual(['late', 'timedout']);
    expect(await store.runs.recordDecision('decided', 'a', { approved: false, by: 'alice' })).toBe(true);
    expect(await leases.requestCancel('cancel')).toBe(true);
    expect(await leases.requestCancel('done')).toBe(false);
    expect(await leases.requestCancel('nope')).toBe(false);
    expect((await leases.claimRuns('w1', 60_000, 10)).sort()).toEqual(['cancel', 'decided']);
    expect(await leases.claimRuns('w2', 60_000, 10)).toEqual([]);
  });

  it('a fenced commit by the lease holder writes and notifies; the notification arrives after the data is visible', async () => {
    await store.runs.createRun(newRun('r1', wf));
    expect(await leases.claimRuns('w1', 60_000, 1)).toEqual(['r1']);
    const seen: { channel: string; payload: string; status: string | undefined }[] = [];
    const sub = await leases.listen(['trellis_events'], (channel, payload) => {
      void store.runs.getRunStatus('r1').then((status) => seen.push({ channel, payload, status }));
    });
    try {
      await leases.commitFenced(
        'w1',
        [{ op: 'run.patch', runId: 'r1', patch: { status: 'running' } }, event('r1', 2)],
        [{ channel: 'trellis_events', payload: 'r1:2' }],
      );
      await until(() => seen.length === 1, 'the notification');
      expect(seen[0]).toEqual({ channel: 'trellis_events', payload: 'r1:2', status: 'running' });
    } finally {
      await sub.close();
    }
  });

  it('a stale worker’s fenced commit throws LEASE_LOST, changes nothing and notifies nobody', async () => {
    await store.runs.createRun(newRun('r1', wf));
    await store.runs.createRun(newRun('r2', wf));
    expect((await leases.claimRuns('w1', 100, 2)).sort()).toEqual(['r1', 'r2']);
    await new Promise((r) => setTimeout(r, 200));
    expect(await leases.claimRuns('w2', 60_000, 1)).toEqual(['r1']); // r2: expired, not yet reclaimed
    const got: string[] = [];
    const sub = await leases.listen(['trellis_events'], (_c, p) => got.push(p));
    try {
      for (const runId of ['r1', 'r2']) {
        const late = leases.commitFenced(
          'w1',
          [{ op: 'run.patch', runId, patch: { status: 'succeeded' } }, event(runId, 2, 'run.succeeded', null)],
          [{ channel: 'trellis_events', payload: `stale ${runId}` }],
        );
        await expect(late).rejects.toMatchObject({ code: 'LEASE_LOST', name: 'LeaseLostError', runIds: [runId] });
        await expect(late).rejects.toThrow(new RegExp(`w1 no longer holds the lease on run\\(s\\) ${runId}`));
        expect(await store.runs.getRunStatus(runId)).toBe('queued');
        expect((await store.runs.readEvents(runId, 0, 10)).map((e) => e.seq)).toEqual([1]);
      }
      // A batch over a run still held and a run lost: all or nothing, and it names the lost one.
      await store.runs.createRun(newRun('r3', wf));
      expect((await leases.claimRuns('w1', 60_000, 5)).sort()).toEqual(['r2', 'r3']); // r2: its own expired lease
      expect(await leases.renewLeases('w1', ['r1', 'r2', 'r3'], 60_000)).toEqual(['r1']);
      const mixed = leases.commitFenced('w1', [
        { op: 'run.patch', runId: 'r3', patch: { status: 'running' } },
        { op: 'run.patch', runId: 'r1', patch: { status: 'running' } },
      ]);
      await expect(mixed).rejects.toMatchObject({ code: 'LEASE_LOST', runIds: ['r1'] });
      expect(await store.runs.getRunStatus('r3')).toBe('queued');
      // The current holder commits fine, and its notification is the only one delivered.
      await leases.commitFenced(
        'w2',
        [{ op: 'run.patch', runId: 'r1', patch: { status: 'running' } }],
        [{ channel: 'trellis_events', payload: 'fresh' }],
      );
      await until(() => got.length > 0, 'the holder’s notification');
      await new Promise((r) => setTimeout(r, 100));
      expect(got).toEqual(['fresh']);
    } finally {
      await sub.close();
    }
  });

  it('a throwing notification handler does not stop later notifications', async () => {
    const got: string[] = [];
    const sub = await leases.listen(['trellis_a', 'trellis_b'], (channel, payload) => {
      got.push(`${channel}:${payload}`);
      if (payload === 'boom') throw new Error('handler bug');
    });
    try {
      await leases.wake('trellis_a', 'boom');
      await leases.wake('trellis_b', 'fine');
      await until(() => got.length === 2, 'both notifications');
      expect(got).toEqual(['trellis_a:boom', 'trellis_b:fine']);
    } finally {
      await sub.close();
    }
  });

  it('a batch retried after an unanswered commit is applied once; a different colliding batch still fails', async () => {
    await store.runs.createRun(newRun('r1', wf));
    expect(await leases.claimRuns('w1', 60_000, 1)).toEqual(['r1']);
    const batch: RunWriteOp[] = [
      { op: 'run.patch', runId: 'r1', patch: { status: 'running' } },
      { op: 'node.patch', runId: 'r1', nodeId: 'a', patch: { status: 'running', attempt: 1 } },
      { op: 'attempt.start', runId: 'r1', nodeId: 'a', attempt: 1, at: T0MS + 1, workerId: 'w1' },
      event('r1', 2),
      event('r1', 3, 'node.progress', null),
    ];
    await store.runs.commit(batch);
    await store.runs.commit(batch); // the retry of a commit that landed
    await leases.commitFenced('w1', batch);
    expect((await store.runs.readEvents('r1', 0, 10)).map((e) => e.seq)).toEqual([1, 2, 3]);
    // The same rows, one event different: not the batch that landed.
    const other = batch.map((o) => (o.op === 'run.event' && o.event.seq === 2 ? event('r1', 2, 'node.other') : o));
    await expect(store.runs.commit(other)).rejects.toMatchObject({ code: '23505' });
    const attemptsOnly = batch.filter((o) => o.op === 'attempt.start');
    await store.runs.commit(attemptsOnly);
    await expect(store.runs.commit(attemptsOnly.map((o) => ({ ...o, nodeId: 'b' })).concat(attemptsOnly))).rejects.toMatchObject({
      code: '23505',
    });
  });

  it('a commit whose connection drops mid-commit fails as STORE_UNAVAILABLE; the next commit connects again', async () => {
    await store.runs.createRun(newRun('r1', wf));
    expect(await leases.claimRuns('w1', 60_000, 1)).toEqual(['r1']);
    await leases.commitFenced('w1', [{ op: 'run.patch', runId: 'r1', patch: { status: 'running' } }]);
    // Another session holds the run's row: the commit waits on it, in the middle of trellis_commit.
    const url = (store.handle as PostgresHandle).clientConfig.connectionString ?? '';
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query(`begin; select 1 from runs where id = 'r1' for update`);
      const stuck = leases.commitFenced('w1', [{ op: 'run.patch', runId: 'r1', patch: { costUsd: 1 } }]).catch((e: unknown) => e);
      let pid: number | undefined;
      await until(async () => {
        const r = await holder.query(
          `select pid from pg_stat_activity where query like 'select from trellis_commit%' and wait_event_type = 'Lock'`,
        );
        pid = r.rows[0]?.pid;
        return pid !== undefined;
      }, 'the commit to wait on the row lock');
      await holder.query('select pg_terminate_backend($1)', [pid]);
      expect(await stuck).toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true });
      await holder.query('rollback');
    } finally {
      await holder.end();
    }
    expect((await store.runs.loadRun('r1'))?.costUsd).toBe(0);
    await leases.commitFenced('w1', [{ op: 'run.patch', runId: 'r1', patch: { costUsd: 2 } }]);
    expect((await store.runs.loadRun('r1'))?.costUsd).toBe(2);
  });

  it('a chain step retried after an unanswered commit is applied once (shaped patches, an end merged with its insert)', async () => {
    await store.runs.createRun(newRun('r1', wf));
    expect(await leases.claimRuns('w1', 60_000, 1)).toEqual(['r1']);
    await leases.commitFenced('w1', [
      { op: 'node.patch', runId: 'r1', nodeId: 'a', patch: { status: 'running', attempt: 1, startedAt: T0MS + 1 } },
      { op: 'attempt.start', runId: 'r1', nodeId: 'a', attempt: 1, at: T0MS + 1, workerId: 'w1' },
      event('r1', 2),
    ]);
    const step: RunWriteOp[] = [
      { op: 'attempt.end', runId: 'r1', nodeId: 'a', attempt: 1, end: { status: 'succeeded', at: T0MS + 2 } },
      {
        op: 'node.patch',
        runId: 'r1',
        nodeId: 'a',
        patch: { status: 'succeeded', output: 1, error: null, costUsd: 0, finishedAt: T0MS + 2, taken: [0] },
      },
      event('r1', 3, 'node.succeeded'),
      { op: 'node.patch', runId: 'r1', nodeId: 'b', patch: { status: 'running', attempt: 1, startedAt: T0MS + 2 } },
      { op: 'attempt.start', runId: 'r1', nodeId: 'b', attempt: 1, at: T0MS + 2, workerId: 'w1' },
      { op: 'attempt.end', runId: 'r1', nodeId: 'b', attempt: 1, end: { status: 'succeeded', at: T0MS + 3 } },
      event('r1', 4, 'node.started', 'b'),
    ];
    await leases.commitFenced('w1', step);
    await leases.commitFenced('w1', step); // the retry of a commit that landed
    expect((await store.runs.readEvents('r1', 0, 10)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    const rec = await store.runs.getRunRecord('r1');
    expect(rec?.nodes.a?.attempts).toMatchObject([{ attempt: 1, status: 'succeeded', finishedAt: at(2) }]);
    expect(rec?.nodes.b).toMatchObject({
      status: 'running',
      attempts: [{ attempt: 1, status: 'succeeded', startedAt: at(2), finishedAt: at(3) }],
    });
    // Another worker's commit of the same step is fenced out, shapes or not.
    await expect(leases.commitFenced('w2', step)).rejects.toMatchObject({ code: 'LEASE_LOST' });
  });

  it('refuses notifications PostgreSQL would reject, with what to change', async () => {
    await expect(leases.wake('bad channel!', 'x')).rejects.toMatchObject({ code: 'INVALID_CHANNEL' });
    await expect(leases.wake('ok', 'x'.repeat(8_000))).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    await expect(leases.listen(['no-dash'], () => {})).rejects.toMatchObject({ code: 'INVALID_CHANNEL' });
  });
});

describe('openPostgres', () => {
  it('says what to fix: unreachable server, wrong password, missing database, foreign or newer database', async () => {
    const pgs = await pgServer();
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const a = s.address();
        s.close(() => resolve(typeof a === 'object' && a ? a.port : 1));
      });
    });
    await expect(openPostgres(`postgres://u:secret@127.0.0.1:${closed}/db`)).rejects.toThrow(
      new RegExp(`cannot reach PostgreSQL at 127.0.0.1:${closed} .*is the server running`),
    );
    const wrong = pgs.url('postgres').replace(pgs.password, 'not-the-password');
    const err = await openPostgres(wrong).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreOpenError);
    expect(String((err as Error).message)).toMatch(/refused the credentials for user "postgres"/);
    expect(String((err as Error).message)).not.toContain('not-the-password');
    await expect(openPostgres(pgs.url('no_such_db'))).rejects.toThrow(
      /database "no_such_db" does not exist .*createdb no_such_db/,
    );
    await expect(openStore('postgres://[bad')).rejects.toThrow(/not a valid PostgreSQL URL/);

    const foreign = await pgs.createDatabase('foreign');
    const c = new pg.Client({ connectionString: foreign });
    await c.connect();
    await c.query('create table customers (id int)');
    await c.end();
    await expect(openPostgres(foreign)).rejects.toThrow(/another application's tables \(customers\)/);

    const newer = await pgs.createDatabase('newer');
    const h = await openPostgres(newer);
    await h.pool.query(`insert into trellis_migrations (name, timestamp) values ('9999_future', '2099-01-01')`);
    await h.close();
    await expect(openPostgres(newer)).rejects.toThrow(/migrated by a newer Trellis \(9999_future\)/);
  });

  it('openStore picks PostgreSQL for postgres:// and postgresql:// URLs, SQLite for paths', async () => {
    const url = (await (await pgServer()).createDatabase('open')).replace(/^postgres:/, 'postgresql:');
    const s = await openStore(url);
    expect(s.dialect).toBe('postgres');
    expect((s.handle as PostgresHandle).url).not.toContain((await pgServer()).password);
    await s.close();
    const f = await openStore(join(mkdtempSync(join(tmpdir(), 'trellis-open-')), 'postgres.db'));
    expect(f.dialect).toBe('sqlite');
    await f.close();
  });

  it('a batch ending attempts by lease loss commits through trellis_commit (migration 0019), not statement by statement', () => {
    const lost = { code: 'LEASE_EXPIRED', message: 'worker gone', retryable: true };
    const end = { status: 'failed', at: 2, error: lost, leaseLost: true } as const;
    const doc = batchDocument(
      lowerWrites([
        { op: 'attempt.end', runId: 'r1', nodeId: 'a', attempt: 1, end },
        { op: 'attempt.start', runId: 'r1', nodeId: 'b', attempt: 1, at: 1, workerId: 'w1', end },
      ]),
    );
    expect(doc).toBeDefined();
    const parsed = JSON.parse(doc ?? '{}') as { a: { lease_lost?: number }[]; au: { s: { lease_lost?: number } }[] };
    expect(parsed.au.map((u) => u.s.lease_lost)).toEqual([1]);
    // b's lease loss is merged into its inserted row (migration 0024).
    expect(parsed.a).toMatchObject([{ node_id: 'b', status: 'failed', lease_lost: 1 }]);
  });

  it('the batch document puts each common patch shape in its own list (migration 0024), and every other patch in the per-column one', () => {
    const ops = lowerWrites([
      { op: 'attempt.end', runId: 'r1', nodeId: 'a', attempt: 1, end: { status: 'succeeded', at: 2 } },
      {
        op: 'node.patch',
        runId: 'r1',
        nodeId: 'a',
        patch: { status: 'succeeded', output: 1, error: null, costUsd: 0, finishedAt: 2, taken: [] },
      },
      { op: 'node.patch', runId: 'r1', nodeId: 'b', patch: { status: 'running', attempt: 1, startedAt: 2 } },
      { op: 'attempt.start', runId: 'r1', nodeId: 'b', attempt: 1, at: 2, workerId: 'w1' },
      // c starts and finishes in one batch: its patches merge into one of the start+finish shape.
      { op: 'node.patch', runId: 'r1', nodeId: 'c', patch: { status: 'running', attempt: 1, startedAt: 2 } },
      { op: 'attempt.start', runId: 'r1', nodeId: 'c', attempt: 1, at: 2, workerId: 'w1' },
      { op: 'attempt.end', runId: 'r1', nodeId: 'c', attempt: 1, end: { status: 'succeeded', at: 3 } },
      {
        op: 'node.patch',
        runId: 'r1',
        nodeId: 'c',
        patch: { status: 'succeeded', output: 2, error: null, costUsd: 0, finishedAt: 3, taken: [0] },
      },
      // Other shapes: a retry's patch, an end with a cost.
      { op: 'node.patch', runId: 'r1', nodeId: 'd', patch: { status: 'retrying', nextAttemptAt: 9 } },
      { op: 'node.patch', runId: 'r1', nodeId: 'e', patch: { status: 'running', attempt: 2, startedAt: 2, input: 1 } },
      { op: 'attempt.end', runId: 'r1', nodeId: 'd', attempt: 1, end: { status: 'failed', at: 2, cost: { costUsd: 1 } } },
    ]);
    // RowOps of a store's own tests and tools: an attempt patched after its insert in the same batch.
    ops.push({ op: 'attempt.update', runId: 'r1', nodeId: 'b', attempt: 1, set: { cost_usd: 0.5 } });
    const doc = JSON.parse(batchDocument(ops) ?? '{}') as Record<string, Record<string, unknown>[]>;
    const keys = (list: string) => (doc[list] ?? []).map((r) => r.node_id ?? (r.k as string[])[1]);
    expect(Object.keys(doc).sort()).toEqual(['a', 'ae', 'au', 'n', 'nf', 'ns', 'nsf']);
    expect(doc.ae).toEqual([
      { run_id: 'r1', node_id: 'a', attempt: 1, status: 'succeeded', finished_at: new Date(2).toISOString() },
    ]);
    expect(doc.nf).toEqual([
      {
        run_id: 'r1',
        node_id: 'a',
        status: 'succeeded',
        output: '1',
        error: 'null',
        cost_usd: 0,
        finished_at: new Date(2).toISOString(),
        taken: '[]',
      },
    ]);
    expect(doc.ns).toEqual([
      { run_id: 'r1', node_id: 'b', status: 'running', attempt: 1, started_at: new Date(2).toISOString() },
    ]);
    expect(keys('nsf')).toEqual(['c']);
    expect(doc.nsf?.[0]).toMatchObject({ status: 'succeeded', attempt: 1, started_at: new Date(2).toISOString(), taken: '[0]' });
    expect(keys('n')).toEqual(['d', 'e']);
    expect(keys('au')).toEqual(['d']);
    // Ends of attempts this batch inserts are merged into the inserted rows, not patched after.
    expect(doc.a).toMatchObject([
      { node_id: 'b', status: 'running', cost_usd: 0.5 },
      { node_id: 'c', status: 'succeeded', finished_at: new Date(3).toISOString() },
    ]);
    // The batch's own objects are not changed by the merge.
    expect(ops.find((o) => o.op === 'attempt.insert')).toMatchObject({ row: { node_id: 'b', cost_usd: 0 } });
    // An attempt inserted twice in one batch is left to the statements (which fail on the key).
    const twice = ops.filter((o) => o.op === 'attempt.insert').slice(0, 1);
    expect(batchDocument([...twice, ...twice])).toBeUndefined();
  });

  it("a run's start and its successful finish have lists of their own (migration 0025); other run patches stay per column", () => {
    const doc = JSON.parse(
      batchDocument(
        lowerWrites([
          { op: 'run.patch', runId: 'r1', patch: { status: 'running', startedAt: 1 } },
          { op: 'run.patch', runId: 'r2', patch: { status: 'succeeded', output: { x: 1 }, finishedAt: 2, releaseLease: true } },
          // Without the lease given back (an engine that does not lease), and a failure: per column.
          { op: 'run.patch', runId: 'r3', patch: { status: 'succeeded', output: 1, finishedAt: 2 } },
          {
            op: 'run.patch',
            runId: 'r4',
            patch: { status: 'failed', error: { code: 'X', message: 'm' }, finishedAt: 2, releaseLease: true },
          },
        ]),
      ) ?? '{}',
    ) as Record<string, Record<string, unknown>[]>;
    expect(doc.rs).toEqual([{ id: 'r1', status: 'running', started_at: new Date(1).toISOString() }]);
    expect(doc.rf).toEqual([
      {
        id: 'r2',
        status: 'succeeded',
        output: '{"x":1}',
        finished_at: new Date(2).toISOString(),
        worker_id: null,
        lease_expires_at: null,
      },
    ]);
    expect((doc.r ?? []).map((u) => (u.k as string[])[0])).toEqual(['r3', 'r4']);
  });

  it('the test harness says how to get PostgreSQL when its binaries are missing', () => {
    expect(() => findPostgresBin('/nonexistent', '/nonexistent')).toThrow(/apt-get install postgresql/);
    expect(findPostgresBin()).toMatch(/bin$/);
  });

  it('migrates once when many processes open the same new database at the same time', async () => {
    const url = await (await pgServer()).createDatabase('race');
    const handles = await Promise.all(Array.from({ length: 4 }, () => openPostgres(url)));
    const res = await handles[0]?.pool.query<{ n: number }>('select count(*) as n from trellis_migrations');
    expect(res?.rows[0]?.n).toBe(Object.keys(MIGRATIONS).length);
    await Promise.all(handles.map((h) => h.close()));
  });
});

// Last: it restarts the server under everyone's feet.
describe('a PostgreSQL restart', () => {
  it('fails queries with a retryable STORE_UNAVAILABLE while down; pool and listener recover once it is back', async () => {
    const pgs = await pgServer();
    const store = await openStore(await pgs.createDatabase('restart'));
    const leases = store.leases as RunLeaseStore;
    const wf = (await createWorkflow(store.db, { name: 'Demo', definition: DEFINITION, owner: 'alice' })).id;
    await store.runs.createRun(newRun('r1', wf));
    const got: [string, string][] = [];
    const sub = await leases.listen(['trellis_wake'], (c, p) => got.push([c, p]));
    try {
      await leases.wake('trellis_wake', 'before');
      await until(() => got.length === 1, 'the first notification');
      // Batches commit on a connection of their own: it fails the same way and is replaced.
      await store.runs.commit([{ op: 'run.patch', runId: 'r1', patch: { costUsd: 1 } }]);

      await pgs.stop();
      const downCommit = await store.runs
        .commit([{ op: 'run.patch', runId: 'r1', patch: { costUsd: 2 } }])
        .catch((e: unknown) => e);
      expect(downCommit).toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true });
      const down = await store.runs.getRunStatus('r1').catch((e: unknown) => e);
      expect(down).toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true });
      const downArea = await listWorkflows(store.db, { principal: 'a', isAdmin: true, limit: 1 }).catch((e: unknown) => e);
      expect(downArea).toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true });
      await pgs.start();

      await until(
        () =>
          store.runs.getRunStatus('r1').then(
            (s) => s === 'queued',
            () => false,
          ),
        'the pool to reconnect',
      );
      expect((await listWorkflows(store.db, { principal: 'a', isAdmin: true, limit: 5 })).items).toHaveLength(1);
      await store.runs.commit([{ op: 'run.patch', runId: 'r1', patch: { costUsd: 3 } }]);
      expect((await store.runs.loadRun('r1'))?.costUsd).toBe(3);
      await until(() => got.some(([c]) => c === RECONNECTED), 'the listener to reconnect');
      await leases.wake('trellis_wake', 'after');
      await until(() => got.some(([, p]) => p === 'after'), 'a notification after the restart');
      expect(got.filter(([c]) => c === 'trellis_wake').map(([, p]) => p)).toEqual(['before', 'after']);
    } finally {
      await sub.close();
      await store.close();
    }
  });
});
