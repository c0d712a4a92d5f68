/**
 * The SQLite hourly analytics rollup (migration 0021): its triggers keep it equal to the runs
 * table through every kind of change (runs created finished, finishing, resumed, re-costed,
 * re-timed, deleted), and the analytics of a window whose ends cut hours in the middle (those
 * partial hours read live, the whole hours from the rollup plus their unfinished runs) equal the
 * figures computed here from the rows themselves.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { histogramQuantile } from '../src/areas/analytics.ts';
import { createWorkflow, openStore, workflowAnalytics } from '../src/index.ts';

const T0 = Date.parse('2026-05-04T00:00:00.000Z');
const H = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

type Run = { id: string; status: string; created: number; started: number | null; finished: number | null; cost: number };

it('keeps the hourly rollup equal to the runs, and a cut window equals the rows', async () => {
  const store = await openStore(join(mkdtempSync(join(tmpdir(), 'trellis-rollup-')), 'trellis.db'));
  try {
    const db = store.db;
    const wf = await createWorkflow(db, {
      name: 'r',
      owner: 'alice',
      definition: { name: 'r', nodes: [{ id: 'n', type: 'transform', expression: '1' }] },
    });
    const other = await createWorkflow(db, {
      name: 'o',
      owner: 'alice',
      definition: { name: 'o', nodes: [{ id: 'n', type: 'transform', expression: '1' }] },
    });
    let seed = 7;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const statuses = ['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'];
    const runs: Run[] = [];
    const write = async (r: Run, workflowId = wf.id) =>
      db
        .insertInto('runs')
        .values({
          id: r.id,
          workflow_id: workflowId,
          version: 1,
          status: r.status,
          input: '{}',
          output: null,
          error: r.status === 'failed' ? JSON.stringify({ code: 'TOOL_ERROR', message: 'x' }) : null,
          cost_usd: r.cost,
          created_by: 'alice',
          created_at: iso(r.created),
          started_at: r.started === null ? null : iso(r.started),
          finished_at: r.finished === null ? null : iso(r.finished),
          deadline_at: null,
          last_seq: 1,
          worker_id: null,
          lease_expires_at: null,
          cancel_requested: 0,
        })
        .execute();
    for (let i = 0; i < 400; i++) {
      const status = statuses[Math.floor(rand() * statuses.length)] as string;
      const created = T0 + Math.floor(rand() * 10 * H);
      const started = status === 'queued' || (status === 'cancelled' && rand() < 0.3) ? null : created + 3;
      const finished = FINAL.has(status) && started !== null ? started + 1 + Math.floor(rand() * 5000) : null;
      const r = { id: `r${i}`, status, created, started, finished, cost: Math.round(rand() * 1000) / 10_000 };
      runs.push(r);
      await write(r);
    }
    // Another workflow's runs never leak into this one's figures.
    await write(
      { id: 'x0', status: 'succeeded', created: T0 + 2 * H, started: T0 + 2 * H, finished: T0 + 3 * H, cost: 9 },
      other.id,
    );

    // Changes, as the run store and retention make them.
    for (const r of runs.slice(0, 150)) {
      const roll = rand();
      if (!FINAL.has(r.status)) {
        r.status = roll < 0.5 ? 'succeeded' : 'failed'; // finishing (the final commit)
        r.started ??= r.created + 5;
        r.finished = r.started + 1 + Math.floor(rand() * 9000);
        r.cost += 0.25;
      } else if (roll < 0.3) {
        r.status = 'running'; // resumed
        r.finished = null;
      } else if (roll < 0.6) {
        r.cost += 1.5; // re-costed
      } else {
        r.finished = (r.started ?? r.created) + 20_000; // re-timed
        r.started ??= r.created;
      }
      await db
        .updateTable('runs')
        .set({
          status: r.status,
          cost_usd: r.cost,
          started_at: r.started === null ? null : iso(r.started),
          finished_at: r.finished === null ? null : iso(r.finished),
        })
        .where('id', '=', r.id)
        .execute();
    }
    // An update that touches none of the figures' columns (the trigger's WHEN skips it).
    await db.updateTable('runs').set({ last_seq: 2 }).where('workflow_id', '=', wf.id).execute();
    const gone = new Set(runs.filter((_, i) => i % 17 === 0).map((r) => r.id));
    await db
      .deleteFrom('runs')
      .where('id', 'in', [...gone])
      .execute();
    const live = runs.filter((r) => !gone.has(r.id));

    // 1. The rollup equals a grouping of the runs table.
    const bin = (r: Run) => Math.floor(Math.log(Math.max((r.finished ?? 0) - (r.started ?? 0), 1)) * 20);
    const rollup = await db
      .selectFrom('analytics_hourly_runs')
      .selectAll()
      .where('workflow_id', '=', wf.id)
      .where('runs', '>', 0)
      .orderBy('hour')
      .orderBy('status')
      .orderBy('bin')
      .execute();
    const expected = new Map<string, { runs: number; cost: number }>();
    for (const r of live.filter((r) => FINAL.has(r.status))) {
      const b = r.started !== null && r.finished !== null ? bin(r) : -1;
      const k = `${iso(r.created).slice(0, 13)} ${r.status} ${String(b).padStart(4, '0')}`;
      const e = expected.get(k) ?? { runs: 0, cost: 0 };
      e.runs++;
      e.cost += r.cost;
      expected.set(k, e);
    }
    const key = (r: { hour: string; status: string; bin: number }) => `${r.hour} ${r.status} ${String(r.bin).padStart(4, '0')}`;
    expect(rollup.map((r) => `${key(r)} ${r.runs}`)).toEqual(
      [...expected.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, e]) => `${k} ${e.runs}`),
    );
    for (const r of rollup) expect(r.cost_usd).toBeCloseTo(expected.get(key(r))?.cost ?? -1, 9);

    // 2. A window cut mid-hour at both ends: the figures of the rows in it.
    const from = T0 + 1 * H + 17 * 60_000;
    const to = T0 + 8 * H + 43 * 60_000;
    const inWindow = live.filter((r) => r.created >= from && r.created < to);
    const a = await workflowAnalytics(db, { workflowId: wf.id, from: iso(from), to: iso(to), bucket: 'hour' });
    const byStatus: Record<string, number> = {};
    for (const r of inWindow) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    expect(a.totals.runs).toBe(inWindow.length);
    expect(a.totals.byStatus).toEqual(byStatus);
    expect(a.totals.costUsd).toBeCloseTo(
      inWindow.reduce((s, r) => s + r.cost, 0),
      5,
    );
    const hist = (rs: Run[]) => {
      const m = new Map<number, number>();
      for (const r of rs) if (r.started !== null && r.finished !== null) m.set(bin(r), (m.get(bin(r)) ?? 0) + 1);
      return m;
    };
    expect(a.totals.p50Ms).toBe(histogramQuantile(hist(inWindow), 0.5));
    expect(a.totals.p95Ms).toBe(histogramQuantile(hist(inWindow), 0.95));
    expect(a.series).toHaveLength(8);
    for (const p of a.series) {
      const t = Date.parse(p.start);
      const rs = inWindow.filter((r) => r.created >= t && r.created < t + H);
      expect(p.runs).toBe(rs.length);
      expect(p.p95Ms).toBe(histogramQuantile(hist(rs), 0.95));
      expect(Object.values(p.byStatus).every((n) => n > 0)).toBe(true);
    }
    // By the day: the same totals.
    const d = await workflowAnalytics(db, { workflowId: wf.id, from: iso(from), to: iso(to), bucket: 'day' });
    expect(d.totals).toEqual(a.totals);
  } finally {
    await store.close();
  }
}, 60_000);
