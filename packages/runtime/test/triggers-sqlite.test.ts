/**
 * The schedule loop on SQLite (its queries run as prepared statements on the raw connection):
 * two loops on one database start exactly one run per tick, also when a process died between
 * starting a tick's run and moving the schedule on; a loop prepares the workflows of the ticks
 * due soon before the tick, so the tick itself compiles nothing.
 */
import type { TriggerDefinition } from '@trellis/core';
import { syncTriggers } from '@trellis/store';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, TriggerScheduler } from '../src/index.ts';
import { type Harness, harness } from './harness.ts';

const trigger: TriggerDefinition = { id: 'every_minute', type: 'schedule', cron: '* * * * *', input: {} };
const t0 = Date.parse('2026-05-04T08:00:30Z');

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function scheduled(n: number, clock: ManualClock): Promise<{ h: Harness; ids: string[] }> {
  h = await harness();
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = await h.save({ name: `tick-${i}`, nodes: [{ id: 'x', type: 'transform', expression: '1' }], triggers: [trigger] });
    await syncTriggers(h.handle.db, id, 1, [trigger], clock.now());
    ids.push(id);
  }
  return { h, ids };
}

describe('schedules on SQLite', () => {
  it('two loops on one database start exactly one run per tick', async () => {
    const clock = new ManualClock(t0);
    const { h, ids } = await scheduled(20, clock);
    // A process died after starting the 08:01 run of the first workflow, before moving the schedule on.
    const orphan = await h.engine.startRun({
      workflowId: ids[0] as string,
      version: 1,
      input: {},
      idempotencyKey: 'schedule:every_minute:2026-05-04T08:01:00.000Z',
    });
    const sa = new TriggerScheduler({ db: h.handle, engine: h.engine, clock, pollMs: 3_600_000, batchSize: 7 });
    const sb = new TriggerScheduler({ db: h.handle, engine: h.engine, clock, pollMs: 3_600_000, batchSize: 7 });
    for (const minute of [1, 2, 3]) {
      await clock.advance(t0 + minute * 60_000 - clock.now());
      await Promise.all([sa.pass(), sb.pass(), sa.pass(), sb.pass()]);
    }
    const rows = await h.handle.db
      .selectFrom('trigger_runs')
      .select(['workflow_id', 'tick', 'run_id'])
      .where('workflow_id', 'in', ids)
      .execute();
    const runs = await h.handle.db.selectFrom('runs').select(['id']).where('workflow_id', 'in', ids).execute();
    expect(runs).toHaveLength(20 * 3);
    expect(rows).toHaveLength(20 * 3);
    expect(new Set(rows.map((r) => `${r.workflow_id} ${r.tick}`)).size).toBe(60);
    expect(rows.find((r) => r.workflow_id === ids[0] && r.tick === '2026-05-04T08:01:00.000Z')?.run_id).toBe(orphan.runId);
    expect(sa.stats.started + sb.stats.started).toBe(59);
    expect(sa.stats.failed + sb.stats.failed).toBe(0);
    const triggers = await h.handle.db.selectFrom('triggers').select(['next_fire_at', 'last_fired_at']).execute();
    expect(new Set(triggers.map((t) => `${t.last_fired_at} ${t.next_fire_at}`))).toEqual(
      new Set(['2026-05-04T08:03:00.000Z 2026-05-04T08:04:00.000Z']),
    );
    for (const r of runs) expect((await h.engine.waitForRun(r.id)).status).toBe('succeeded');
  });

  it('a running loop prepares the workflows due soon before their tick', async () => {
    const clock = new ManualClock(t0);
    const { h, ids } = await scheduled(5, clock);
    const prepared: string[] = [];
    const definitionReads: string[] = [];
    const read = h.store.getDefinition.bind(h.store);
    h.store.getDefinition = (workflowId, version) => {
      definitionReads.push(workflowId);
      return read(workflowId, version);
    };
    const engine = {
      startRun: h.engine.startRun.bind(h.engine),
      prepare: async (workflowId: string, version: number) => {
        prepared.push(`${workflowId}@${version}`);
        await h.engine.prepare(workflowId, version);
      },
    };
    const s = new TriggerScheduler({ db: h.handle, engine, clock, pollMs: 3_600_000, prepareAheadMs: 10_000 });
    s.start();
    await s.idle();
    // 30 s before the tick: too early to prepare; the loop sleeps until 10 s before it.
    expect(prepared).toEqual([]);
    expect(clock.pending()).toEqual([20_000]);
    await clock.advance(20_000);
    await s.idle();
    expect(prepared.sort()).toEqual(ids.map((id) => `${id}@1`).sort());
    expect(definitionReads.sort()).toEqual([...ids].sort());
    expect(clock.pending()).toEqual([10_000]);
    // The tick reads no definition: every workflow was compiled ahead of it.
    await clock.advance(10_000);
    await s.idle();
    expect(s.stats.started).toBe(5);
    expect(definitionReads).toHaveLength(5);
    // 10 s before the next tick its workflows are looked up again (cached: nothing read), and a
    // pass before that tick (a save woke the loop) does not prepare them twice.
    await clock.advance(50_000);
    await s.idle();
    expect(prepared).toHaveLength(10);
    await clock.advance(5_000);
    s.wake();
    await s.idle();
    expect(prepared).toHaveLength(10);
    expect(definitionReads).toHaveLength(5);
    await s.stop();
    for (const id of await h.handle.db.selectFrom('runs').select('id').execute())
      expect((await h.engine.waitForRun(id.id)).status).toBe('succeeded');
  });

  it('a version that cannot be prepared is reported by its tick, not by the preparation', async () => {
    const clock = new ManualClock(t0);
    const { h, ids } = await scheduled(2, clock);
    // The second workflow's version 1 vanishes (as if deleted under the loop).
    await h.handle.db
      .updateTable('triggers')
      .set({ version: 9 })
      .where('workflow_id', '=', ids[1] as string)
      .execute();
    const warnings: string[] = [];
    const logger = { info() {}, warn: (msg: string) => void warnings.push(msg), error() {} };
    const s = new TriggerScheduler({ db: h.handle, engine: h.engine, clock, pollMs: 3_600_000, logger });
    s.start();
    await s.idle();
    await clock.advance(20_000);
    await s.idle();
    expect(warnings).toEqual([]);
    await clock.advance(10_000);
    await s.idle();
    await s.stop();
    expect(s.stats).toMatchObject({ started: 1, failed: 1 });
    expect(warnings).toEqual(['a scheduled tick could not start a run']);
  });
});
