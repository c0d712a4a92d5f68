/**
 * Schedules with several processes on one PostgreSQL: each tick starts exactly one run, whichever
 * process gets there first, also when a process died between starting a tick's run and moving the
 * schedule on.
 */
import type { TriggerDefinition } from '@trellis/core';
import { syncTriggers } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../store/test/helpers/postgres.ts';
import { ManualClock, TriggerScheduler } from '../src/index.ts';
import { pgNode, saveWorkflow } from './pg-harness.ts';

let pg: TestPostgres;
beforeAll(async () => {
  pg = await startPostgres();
}, 120_000);
afterAll(async () => {
  await pg?.destroy();
});

describe('schedules on one PostgreSQL with two processes', () => {
  it('start exactly one run per tick', async () => {
    const url = await pg.createDatabase('ticks');
    const a = await pgNode(url, { workerId: 'a' });
    const b = await pgNode(url, { workerId: 'b' });
    const t0 = Date.parse('2026-05-04T08:00:30Z');
    const clock = new ManualClock(t0);
    const trigger: TriggerDefinition = { id: 'every_minute', type: 'schedule', cron: '* * * * *', input: {} };
    const ids: string[] = [];
    try {
      for (let i = 0; i < 30; i++) {
        const id = await saveWorkflow(a.store, {
          name: `tick-${i}`,
          nodes: [{ id: 'x', type: 'transform', expression: '1' }],
          triggers: [trigger],
        });
        await syncTriggers(a.store.db, id, 1, [trigger], t0);
        ids.push(id);
      }
      // A process died after starting the 08:01 run of the first workflow, before moving the schedule on.
      const orphan = await a.engine.startRun({
        workflowId: ids[0] as string,
        version: 1,
        input: {},
        idempotencyKey: 'schedule:every_minute:2026-05-04T08:01:00.000Z',
      });
      const sa = new TriggerScheduler({ db: a.store.db, engine: a.engine, clock, pollMs: 3_600_000 });
      const sb = new TriggerScheduler({ db: b.store.db, engine: b.engine, clock, pollMs: 3_600_000 });
      for (const minute of [1, 2, 3]) {
        await clock.advance(t0 + minute * 60_000 - clock.now());
        await Promise.all([sa.pass(), sb.pass(), sa.pass(), sb.pass()]);
      }
      const rows = await a.store.db
        .selectFrom('trigger_runs')
        .select(['workflow_id', 'tick', 'run_id'])
        .where('workflow_id', 'in', ids)
        .execute();
      const runs = await a.store.db.selectFrom('runs').select(['id', 'workflow_id']).where('workflow_id', 'in', ids).execute();
      expect(runs).toHaveLength(30 * 3);
      expect(rows).toHaveLength(30 * 3);
      expect(new Set(rows.map((r) => `${r.workflow_id} ${r.tick}`)).size).toBe(90);
      expect(rows.find((r) => r.workflow_id === ids[0] && r.tick === '2026-05-04T08:01:00.000Z')?.run_id).toBe(orphan.runId);
      expect(sa.stats.started + sb.stats.started).toBe(89);
      expect(sa.stats.failed + sb.stats.failed).toBe(0);
      for (const r of runs) expect((await a.engine.waitForRun(r.id)).status).toBe('succeeded');
    } finally {
      await a.close();
      await b.close();
    }
  });
});
