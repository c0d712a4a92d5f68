/**
 * The run invariant checker finds each kind of damage a lost, reordered or half-applied batch
 * leaves behind, and passes a consistent run.
 */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunEvent } from '@trellis/core';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkRunInvariants,
  createWorkflow,
  formatInvariantReport,
  openSqlite,
  type RunWriteOp,
  type SqliteHandle,
  SqliteRunStore,
} from '../src/index.ts';
import { queuedRun } from './helpers/queued-run.ts';

const handles: SqliteHandle[] = [];
afterEach(async () => {
  for (const h of handles.splice(0)) await h.close();
});

const at = '2026-01-01T00:00:00.000Z';

/** A finished two-node run a → b, as the runner would have committed it. */
async function finishedRun(): Promise<{ h: SqliteHandle; runId: string }> {
  const h = await openSqlite(join(mkdtempSync(join(tmpdir(), 'trellis-inv-')), 'trellis.db'));
  handles.push(h);
  const { id: wf } = await createWorkflow(h.db, {
    name: 'two',
    definition: { name: 'two', nodes: [{ id: 'a', type: 'tool_call', tool: 't' }], edges: [] },
    owner: 'o',
  });
  const store = new SqliteRunStore(h);
  const runId = 'r1';
  await store.createRun(queuedRun({ id: runId, workflowId: wf, at: Date.parse(at), nodeIds: ['a', 'b'] }));
  let seq = 1;
  const ms = Date.parse(at);
  const ev = (type: string, node: string | null): RunWriteOp => {
    const event = { seq: ++seq, runId, type, at, data: {} } as RunEvent;
    if (node !== null) event.nodeId = node;
    return { op: 'run.event', event };
  };
  const attempt = (node: string, cost: number): RunWriteOp => ({
    op: 'attempt.start',
    runId,
    nodeId: node,
    attempt: 1,
    at: ms,
    workerId: null,
    end: { status: 'succeeded', at: ms, cost: { costUsd: cost } },
  });
  await store.commit([
    ev('run.started', null),
    ev('node.queued', 'a'),
    ev('node.started', 'a'),
    attempt('a', 0.25),
    ev('node.succeeded', 'a'),
    { op: 'node.patch', runId, nodeId: 'a', patch: { status: 'succeeded', attempt: 1, costUsd: 0.25 } },
    ev('node.started', 'b'),
    attempt('b', 0.5),
    ev('node.succeeded', 'b'),
    { op: 'node.patch', runId, nodeId: 'b', patch: { status: 'succeeded', attempt: 1, costUsd: 0.5 } },
    ev('run.succeeded', null),
    { op: 'run.patch', runId, patch: { status: 'succeeded', costUsd: 0.75, finishedAt: ms } },
  ]);
  return { h, runId };
}

const rules = async (h: SqliteHandle) =>
  (await checkRunInvariants(h.db)).violations.map((v) => `${v.rule}${v.nodeId ? `:${v.nodeId}` : ''}`);

describe('run invariant checker', () => {
  it('passes a consistent finished run', async () => {
    const { h } = await finishedRun();
    const report = await checkRunInvariants(h.db);
    expect(report.ok, formatInvariantReport(report)).toBe(true);
    expect(report).toMatchObject({ runs: 1, terminalRuns: 1 });
  });

  it('finds a node left pending and out of step with its events (a lost batch)', async () => {
    const { h } = await finishedRun();
    await sql`update node_runs set status = 'pending' where node_id = 'b'`.execute(h.db);
    expect(await rules(h)).toEqual(['node_not_terminal:b', 'node_status_mismatch:b']);
  });

  it('finds a gap in the event log and a terminal event that is not last', async () => {
    const { h } = await finishedRun();
    await sql`delete from events where seq = 4`.execute(h.db);
    expect(await rules(h)).toEqual(['event_gap']);
    await sql`update events set type = 'run.cost' where type = 'run.succeeded'`.execute(h.db);
    expect(await rules(h)).toEqual(['event_gap', 'terminal_event']);
  });

  it('finds a run cost that is not the sum of its attempts, and an attempt left running', async () => {
    const { h } = await finishedRun();
    await sql`update runs set cost_usd = 0.5`.execute(h.db);
    await sql`update attempts set status = 'running' where node_id = 'a'`.execute(h.db);
    expect(await rules(h)).toEqual(['cost_mismatch', 'attempt_running:a']);
  });

  it('checks only the runs asked for, and reads a non-terminal run for gaps and cost only', async () => {
    const { h, runId } = await finishedRun();
    await sql`update runs set status = 'running'`.execute(h.db);
    await sql`update node_runs set status = 'running' where node_id = 'b'`.execute(h.db);
    expect(await rules(h)).toEqual([]);
    expect((await checkRunInvariants(h.db, { runIds: ['other'] })).runs).toBe(0);
    expect((await checkRunInvariants(h.db, { runIds: [runId] })).runs).toBe(1);
  });
});
