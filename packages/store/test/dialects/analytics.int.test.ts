/**
 * Workflow analytics (`workflowAnalytics`), one suite on both dialects (a real SQLite file and a
 * throwaway PostgreSQL): the same seeded runs and node rows give the same figures — counts by
 * status and bucket, cost, log-binned duration percentiles, node statistics, failure groups.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createWorkflow, openStore, workflowAnalytics } from '../../src/index.ts';
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
  { name: 'sqlite', target: async () => join(mkdtempSync(join(tmpdir(), 'trellis-analytics-')), 'trellis.db') },
  { name: 'postgres', target: async () => (await pgServer()).createDatabase('analytics') },
] as const;

const T0 = Date.parse('2026-03-02T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

describe.each(DIALECTS)('workflow analytics on $name', ({ target }) => {
  it('aggregates the window by bucket, status, duration, node and error code', async () => {
    const store = await openStore(await target());
    try {
      const wf = await createWorkflow(store.db, {
        name: 'a',
        owner: 'alice',
        definition: { name: 'a', nodes: [{ id: 'n', type: 'transform', expression: '1' }] },
      });
      const runs = [
        { h: 1, status: 'succeeded', ms: 100, cost: 0.5 },
        { h: 1, status: 'succeeded', ms: 200, cost: 0.5 },
        { h: 1, status: 'failed', ms: 400, cost: 0.25, code: 'TOOL_ERROR' },
        { h: 3, status: 'succeeded', ms: 800, cost: 0 },
        { h: 3, status: 'failed', ms: 1600, cost: 0, code: 'TOOL_ERROR' },
        { h: 3, status: 'failed', ms: 3200, cost: 0, code: 'TIMEOUT' },
        { h: 30, status: 'succeeded', ms: 10, cost: 7 }, // outside the window
      ];
      for (const [i, r] of runs.entries()) {
        const created = T0 + r.h * 3_600_000 + i * 1000;
        const id = `r${i}`;
        await store.db
          .insertInto('runs')
          .values({
            id,
            workflow_id: wf.id,
            version: 1,
            status: r.status,
            input: '{}',
            output: null,
            error: r.code ? JSON.stringify({ code: r.code, message: `m${i}` }) : null,
            cost_usd: r.cost,
            created_by: 'alice',
            created_at: iso(created),
            started_at: iso(created),
            finished_at: iso(created + r.ms),
            deadline_at: null,
            last_seq: 1,
            worker_id: null,
            lease_expires_at: null,
            cancel_requested: 0,
          })
          .execute();
        await store.db
          .insertInto('node_runs')
          .values([
            {
              run_id: id,
              node_id: 'n',
              status: r.status,
              attempt: 1,
              cost_usd: r.cost,
              started_at: iso(created),
              finished_at: iso(created + r.ms),
            } as never,
            {
              run_id: id,
              node_id: 'n[0]',
              status: 'succeeded',
              attempt: 1,
              cost_usd: 1,
              started_at: iso(created),
              finished_at: iso(created + 1),
            } as never,
          ])
          .execute();
      }
      const a = await workflowAnalytics(store.db, {
        workflowId: wf.id,
        from: iso(T0),
        to: iso(T0 + 24 * 3_600_000),
        bucket: 'hour',
      });
      expect(a.totals).toMatchObject({ runs: 6, byStatus: { succeeded: 3, failed: 3 }, costUsd: 1.25 });
      expect(a.series).toHaveLength(24);
      expect(a.series[1]).toMatchObject({ start: '2026-03-02T01:00:00.000Z', runs: 3, byStatus: { succeeded: 2, failed: 1 } });
      expect(a.series[1]?.costPerRunUsd).toBeCloseTo(1.25 / 3, 6);
      expect(a.series[3]).toMatchObject({ runs: 3, costUsd: 0 });
      expect(a.series[2]).toMatchObject({ runs: 0, p50Ms: null });
      // Percentiles within 2.5 % (log bins): 6 runs → p50 = 3rd = 400 ms, p95 = 6th = 3200 ms.
      expect(Math.abs((a.totals.p50Ms ?? 0) - 400)).toBeLessThanOrEqual(11);
      expect(Math.abs((a.totals.p95Ms ?? 0) - 3200)).toBeLessThanOrEqual(81);
      expect(Math.abs((a.series[3]?.p50Ms ?? 0) - 1600)).toBeLessThanOrEqual(41);
      expect(a.nodes.stats).toHaveLength(1);
      expect(a.nodes.stats[0]).toMatchObject({ nodeId: 'n', count: 6, failed: 3, maxMs: 3200, avgMs: 1050, totalCostUsd: 1.25 });
      expect(a.failures).toEqual([
        { code: 'TOOL_ERROR', count: 2, lastRunId: 'r4', lastAt: iso(T0 + 3 * 3_600_000 + 4000), message: 'm4' },
        { code: 'TIMEOUT', count: 1, lastRunId: 'r5', lastAt: iso(T0 + 3 * 3_600_000 + 5000), message: 'm5' },
      ]);
    } finally {
      await store.close();
    }
  }, 60_000);
});
