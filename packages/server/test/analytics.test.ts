/**
 * `GET /workflows/:id/analytics`: figures checked against runs and node rows seeded with known
 * statuses, times, costs and errors (plus real runs through the engine), the window, the
 * per-node statistics and failure groups; who may read it (viewers of the workflow, nobody else);
 * bad windows are a 400.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startTestServer, type TestServer } from './helpers.ts';

let t: TestServer;
let wfId: string;
let otherId: string;

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** Inserts a finished run created `agoMs` ago lasting `durationMs`, with its two node rows. */
function seedRun(
  workflowId: string,
  i: number,
  o: { agoMs: number; status: 'succeeded' | 'failed' | 'cancelled'; durationMs: number; cost: number; code?: string },
): void {
  const created = Date.now() - o.agoMs;
  const id = `seed-${workflowId}-${i}`;
  t.handle.raw
    .prepare(
      `insert into runs (id, workflow_id, version, status, input, output, error, cost_usd, created_by, created_at, started_at, finished_at, deadline_at, last_seq, worker_id, lease_expires_at, cancel_requested)
       values (?, ?, 1, ?, '{}', null, ?, ?, 'alice', ?, ?, ?, null, 1, null, null, 0)`,
    )
    .run(
      id,
      workflowId,
      o.status,
      o.code ? JSON.stringify({ code: o.code, message: `boom ${i}` }) : null,
      o.cost,
      iso(created),
      iso(created),
      iso(created + o.durationMs),
    );
  const node = t.handle.raw.prepare(
    `insert into node_runs (run_id, node_id, status, attempt, cost_usd, started_at, finished_at) values (?, ?, ?, 1, ?, ?, ?)`,
  );
  // `fetch` takes a tenth of the run and costs nothing; `think` the rest and all of the cost.
  node.run(id, 'fetch', 'succeeded', 0, iso(created), iso(created + o.durationMs / 10));
  node.run(id, 'think', o.status, o.cost, iso(created + o.durationMs / 10), iso(created + o.durationMs));
  // A map item row: left out of node statistics (its map node's row covers it).
  node.run(id, 'think[0]', 'succeeded', 5, iso(created), iso(created + 1));
}

beforeAll(async () => {
  t = await startTestServer();
  const create = async (name: string) => {
    const res = await t.request('POST', '/api/v1/workflows', {
      body: {
        name,
        nodes: [
          { id: 'fetch', type: 'tool_call', tool: 'test.echo', input: { x: 1 } },
          { id: 'think', type: 'transform', expression: "'ok'" },
        ],
        edges: [{ from: 'fetch', to: 'think' }],
      },
    });
    expect(res.statusCode).toBe(201);
    return json(res).id as string;
  };
  wfId = await create('analysed');
  otherId = await create('other');
  // carol may view `analysed`; bob has no role on it.
  await t.request('PUT', `/api/v1/workflows/${wfId}/permissions`, {
    body: [
      { principal: 'alice', role: 'owner' },
      { principal: 'carol', role: 'viewer' },
    ],
  });
  // 10 runs within the last day: 7 succeeded (100…700 ms), 2 failed (TOOL_ERROR, TIMEOUT…), 1 cancelled.
  const durations = [100, 200, 300, 400, 500, 600, 700];
  durations.forEach((d, i) => {
    seedRun(wfId, i, { agoMs: 2 * HOUR + i * 1000, status: 'succeeded', durationMs: d, cost: 0.1 });
  });
  seedRun(wfId, 7, { agoMs: 3 * HOUR, status: 'failed', durationMs: 1000, cost: 0.05, code: 'TOOL_ERROR' });
  seedRun(wfId, 8, { agoMs: 3 * HOUR + 5000, status: 'failed', durationMs: 1000, cost: 0.05, code: 'TOOL_ERROR' });
  seedRun(wfId, 9, { agoMs: 5 * HOUR, status: 'cancelled', durationMs: 50, cost: 0, code: undefined });
  seedRun(wfId, 10, { agoMs: 4 * HOUR, status: 'failed', durationMs: 2000, cost: 0, code: 'TIMEOUT' });
  // Outside the 24 h window but inside 7 d: 1 run.
  seedRun(wfId, 11, { agoMs: 3 * 24 * HOUR, status: 'succeeded', durationMs: 100_000, cost: 1 });
  // Another workflow's runs never count.
  seedRun(otherId, 0, { agoMs: HOUR, status: 'failed', durationMs: 10, cost: 9, code: 'OTHER' });
});
afterAll(async () => {
  await t.close();
});

function near(actual: number | null, expected: number): void {
  expect(actual).not.toBeNull();
  // Percentiles come from 5 % log-scale bins: within 2.5 % of the exact value (+1 ms rounding).
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(expected * 0.026 + 1);
}

describe('workflow analytics', () => {
  it('computes runs by status, durations, cost, node statistics and failure groups of the window', async () => {
    // A real run through the engine too (its times and costs come from the runner).
    const started = await t.request('POST', `/api/v1/workflows/${wfId}/run`, { body: { input: {} } });
    expect(started.statusCode).toBe(201);
    await t.engine.waitForRun(json(started).id);

    const res = await t.request('GET', `/api/v1/workflows/${wfId}/analytics?window=24h`);
    expect(res.statusCode).toBe(200);
    const a = json(res);
    expect(a).toMatchObject({ workflowId: wfId, window: '24h', bucket: 'hour' });
    expect(Date.parse(a.to) - Date.parse(a.from)).toBeCloseTo(24 * HOUR, -3);
    expect(a.totals.runs).toBe(12);
    expect(a.totals.byStatus).toEqual({ succeeded: 8, failed: 3, cancelled: 1 });
    expect(a.totals.costUsd).toBeCloseTo(0.8, 6);
    expect(a.totals.costPerRunUsd).toBeCloseTo(0.8 / 12, 6);
    // Series: one point per hour of the window (25 with the partial first hour), summing to the totals.
    expect(a.series.length).toBeGreaterThanOrEqual(24);
    expect(a.series.reduce((n: number, p: { runs: number }) => n + p.runs, 0)).toBe(12);
    const twoHoursAgo = a.series.find(
      (p: { start: string }) => p.start === `${iso(Date.now() - 2 * HOUR - 6000).slice(0, 13)}:00:00.000Z`,
    );
    expect(twoHoursAgo?.byStatus.succeeded).toBeGreaterThanOrEqual(1);

    // Durations: the seeded runs are 50, 100…700, 1000, 1000, 2000 ms; the real one as its row says.
    const row = t.handle.raw.prepare('select started_at, finished_at from runs where id = ?').get(json(started).id) as {
      started_at: string | null;
      finished_at: string | null;
    };
    const all = [50, 100, 200, 300, 400, 500, 600, 700, 1000, 1000, 2000];
    if (row.started_at && row.finished_at) all.push(Date.parse(row.finished_at) - Date.parse(row.started_at));
    all.sort((x, y) => x - y);
    near(a.totals.p50Ms, all[Math.ceil(all.length * 0.5) - 1] as number);
    near(a.totals.p95Ms, all[Math.ceil(all.length * 0.95) - 1] as number);

    // Nodes: map items are left out; `think` is the slowest and the only one with cost.
    const stats = new Map(a.nodes.stats.map((s: { nodeId: string }) => [s.nodeId, s]));
    expect([...stats.keys()].sort()).toEqual(['fetch', 'think']);
    expect(a.nodes.runsSampled).toBe(12);
    const think = stats.get('think') as Record<string, number | string>;
    expect(think).toMatchObject({ type: 'transform', count: 12, failed: 3 });
    expect(think.totalCostUsd).toBeCloseTo(0.8, 6);
    expect(stats.get('fetch')).toMatchObject({ type: 'tool_call', totalCostUsd: 0 });
    expect(think.maxMs).toBeGreaterThanOrEqual(1790);

    // Failures grouped by code, most frequent first, with the latest run and its message.
    expect(a.failures.map((f: { code: string; count: number }) => [f.code, f.count])).toEqual([
      ['TOOL_ERROR', 2],
      ['TIMEOUT', 1],
    ]);
    expect(a.failures[0]).toMatchObject({ lastRunId: `seed-${wfId}-7`, message: 'boom 7' });

    // The 7-day window includes the older run.
    const week = json(await t.request('GET', `/api/v1/workflows/${wfId}/analytics?window=7d`));
    expect(week.totals.runs).toBe(13);
    near(week.totals.p95Ms, 100_000); // 13 runs: the 95th percentile is the slowest, the 100 s one
    const month = json(await t.request('GET', `/api/v1/workflows/${wfId}/analytics?window=30d`));
    expect(month).toMatchObject({ bucket: 'day', totals: { runs: 13 } });
    expect(month.series.length).toBeGreaterThanOrEqual(30);
  });

  it('an empty window has zero runs and null percentiles', async () => {
    const res = await t.request('POST', '/api/v1/workflows', {
      body: { name: 'idle', nodes: [{ id: 'a', type: 'transform', expression: '1' }] },
    });
    const a = json(await t.request('GET', `/api/v1/workflows/${json(res).id}/analytics`));
    expect(a).toMatchObject({ window: '7d', totals: { runs: 0, byStatus: {}, costUsd: 0, p50Ms: null, p95Ms: null } });
    expect(a.nodes.stats).toEqual([]);
    expect(a.failures).toEqual([]);
  });

  it('viewers may read it; users without a role on the workflow may not; bad windows are a 400', async () => {
    expect((await t.request('GET', `/api/v1/workflows/${wfId}/analytics`, { token: t.tokens.carol })).statusCode).toBe(200);
    const bob = await t.request('GET', `/api/v1/workflows/${wfId}/analytics`, { token: t.tokens.bob });
    expect([403, 404]).toContain(bob.statusCode);
    expect(bob.body).not.toContain('TOOL_ERROR');
    expect((await t.request('GET', `/api/v1/workflows/${wfId}/analytics`, { token: null })).statusCode).toBe(401);
    // carol sees nothing of `other`, which she has no role on.
    const other = await t.request('GET', `/api/v1/workflows/${otherId}/analytics`, { token: t.tokens.carol });
    expect([403, 404]).toContain(other.statusCode);
    const bad = await t.request('GET', `/api/v1/workflows/${wfId}/analytics?window=1y`);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/24h/);
  });
});
