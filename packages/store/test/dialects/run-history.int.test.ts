/**
 * Run history across workflows and scratch workflows (migration 0016), one suite on both
 * dialects (a real SQLite file and a throwaway PostgreSQL): visibility by permission, filters,
 * pages, scratch runs kept out of every list and deleted after the retention.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunStatus } from '@trellis/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  addScratchVersion,
  createWorkflow,
  deleteScratchRuns,
  listRunHistory,
  listWorkflows,
  openStore,
  type Store,
  scratchRunOwner,
} from '../../src/index.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';

let server: Promise<TestPostgres> | undefined;
const pgServer = (): Promise<TestPostgres> => {
  server ??= startPostgres();
  return server;
};
afterAll(async () => {
  if (server) await (await server).destroy();
});

const DIALECTS = [
  { name: 'sqlite', target: async () => join(mkdtempSync(join(tmpdir(), 'trellis-history-')), 'trellis.db') },
  { name: 'postgres', target: async () => (await pgServer()).createDatabase('history') },
] as const;

async function addRun(store: Store, id: string, workflowId: string, version: number, status: RunStatus, createdAt: string) {
  await store.runs.createRun({
    id,
    workflowId,
    version,
    input: { q: id, pad: 'x'.repeat(300) },
    createdBy: 'alice',
    createdAt: Date.parse(createdAt),
    deadlineAt: null,
    claim: null,
    nodeIds: ['a'],
    events: [{ seq: 1, runId: id, type: 'run.queued', at: createdAt, data: { workflowId, version } }],
  });
  if (status !== 'queued') await store.runs.commit([{ op: 'run.patch', runId: id, patch: { status } }]);
}

for (const d of DIALECTS) {
  describe(`run history and scratch runs on ${d.name}`, () => {
    it('lists visible runs with filters and pages; scratch runs stay out and expire', async () => {
      const store = await openStore(await d.target());
      try {
        const def = { name: 'w', nodes: [{ id: 'a', type: 'transform', expression: '1' }] };
        const a = await createWorkflow(store.db, { name: 'alpha', definition: def, owner: 'alice' });
        const b = await createWorkflow(store.db, { name: 'beta', definition: def, owner: 'bob' });
        await addRun(store, 'run_1', a.id, 1, 'succeeded', '2026-01-01T00:00:00.000Z');
        await addRun(store, 'run_2', a.id, 1, 'failed', '2026-01-02T00:00:00.000Z');
        await addRun(store, 'run_3', b.id, 1, 'succeeded', '2026-01-03T00:00:00.000Z');
        const scratch = await addScratchVersion(store.db, a.id, def, 'alice');
        const again = await addScratchVersion(store.db, a.id, def, 'alice');
        expect(again).toEqual({ scratchId: scratch.scratchId, version: 2 });
        await addRun(store, 'run_s1', scratch.scratchId, 1, 'succeeded', '2026-01-04T00:00:00.000Z');
        await addRun(store, 'run_s2', scratch.scratchId, 2, 'running', '2026-01-04T00:00:01.000Z');
        expect(await scratchRunOwner(store.db, 'run_s1')).toBe(a.id);
        expect(await scratchRunOwner(store.db, 'run_1')).toBeUndefined();

        const ids = async (q: Partial<Parameters<typeof listRunHistory>[1]>) =>
          (await listRunHistory(store.db, { principal: 'alice', isAdmin: false, limit: 50, ...q })).items.map((r) => r.id);
        expect(await ids({})).toEqual(['run_2', 'run_1']);
        expect(await ids({ isAdmin: true })).toEqual(['run_3', 'run_2', 'run_1']);
        expect(await ids({ status: ['failed'] })).toEqual(['run_2']);
        expect(await ids({ since: '2026-01-02T00:00:00.000Z' })).toEqual(['run_2']);
        expect(await ids({ until: '2026-01-02T00:00:00.000Z' })).toEqual(['run_1']);
        expect(await ids({ origin: 'schedule' })).toEqual([]);
        expect(await ids({ origin: 'manual' })).toEqual(['run_2', 'run_1']);
        const first = await listRunHistory(store.db, { principal: 'alice', isAdmin: false, limit: 1 });
        expect(first.items[0]).toMatchObject({ id: 'run_2', workflowName: 'alpha', lastSeq: 1 });
        expect(first.items[0]!.inputPreview).toHaveLength(200);
        expect(first.items[0]!.inputPreview.endsWith('…')).toBe(true);
        const second = await listRunHistory(store.db, {
          principal: 'alice',
          isAdmin: false,
          limit: 1,
          cursor: first.nextCursor!,
        });
        expect(second.items.map((r) => r.id)).toEqual(['run_1']);
        // The scratch workflow is in no workflow list, not even an administrator's.
        const wfs = await listWorkflows(store.db, { principal: 'admin', isAdmin: true, limit: 50 });
        expect(wfs.items.map((w) => w.name).sort()).toEqual(['alpha', 'beta']);

        // Retention: only finished scratch runs before the cutoff go; versions no run uses go too.
        expect(await deleteScratchRuns(store.db, '2030-01-01T00:00:00.000Z')).toBe(1);
        const left = await store.db.selectFrom('runs').select('id').orderBy('id').execute();
        expect(left.map((r) => r.id)).toEqual(['run_1', 'run_2', 'run_3', 'run_s2']);
        const versions = await store.db
          .selectFrom('workflow_versions')
          .select('version')
          .where('workflow_id', '=', scratch.scratchId)
          .execute();
        expect(versions.map((v) => v.version)).toEqual([2]);
        expect(await store.db.selectFrom('events').select('run_id').where('run_id', '=', 'run_s1').execute()).toEqual([]);
      } finally {
        await store.close();
      }
    });
  });
}
