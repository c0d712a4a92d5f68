/**
 * Runs created in the same turn share one SQLite transaction: all are created, an idempotency key
 * used twice in the batch yields one run, and a run that fails (here: an id already taken) fails
 * alone — the others of its batch are still created.
 */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkflow, openSqlite, type SqliteHandle, SqliteRunStore } from '../src/index.ts';
import { queuedRun } from './helpers/queued-run.ts';

const handles: SqliteHandle[] = [];
afterEach(async () => {
  for (const h of handles.splice(0)) await h.close();
});

const at = Date.parse('2026-01-01T00:00:00.000Z');

async function setup() {
  const h = await openSqlite(join(mkdtempSync(join(tmpdir(), 'trellis-grp-')), 'trellis.db'));
  handles.push(h);
  const { id: wf } = await createWorkflow(h.db, {
    name: 'one',
    definition: { name: 'one', nodes: [{ id: 'a', type: 'tool_call', tool: 't' }], edges: [] },
    owner: 'o',
  });
  const store = new SqliteRunStore(h);
  const newRun = (id: string, key?: string) =>
    queuedRun({ id, workflowId: wf, at, nodeIds: ['a'], ...(key === undefined ? {} : { idempotencyKey: key }) });
  const count = () => h.raw.prepare('select count(*) from runs').pluck().get() as number;
  return { store, newRun, count };
}

describe('runs created in one turn', () => {
  it('are created together; one idempotency key used twice makes one run', async () => {
    const { store, newRun, count } = await setup();
    const results = await Promise.all([
      ...Array.from({ length: 50 }, (_, i) => store.createRun(newRun(`r${i}`))),
      store.createRun(newRun('k1', 'tick-1')),
      store.createRun(newRun('k2', 'tick-1')),
    ]);
    expect(results.slice(0, 50).every((r) => r.created)).toBe(true);
    expect(results[50]).toEqual({ runId: 'k1', created: true });
    expect(results[51]).toEqual({ runId: 'k1', created: false });
    expect(count()).toBe(51);
  });

  it('a run that fails fails alone; the rest of its batch is created', async () => {
    const { store, newRun, count } = await setup();
    await store.createRun(newRun('taken'));
    const settled = await Promise.allSettled([
      store.createRun(newRun('a1')),
      store.createRun(newRun('taken')),
      store.createRun(newRun('a2')),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(count()).toBe(3);
  });
});
