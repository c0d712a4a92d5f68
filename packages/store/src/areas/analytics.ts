/**
 * Run analytics of one workflow over a time window (the console's analytics page): runs over
 * time by status, duration percentiles and cost per run over time, the slowest and most
 * expensive nodes, and failure reasons grouped by error code. Computed by a handful of indexed
 * queries (runs by `(workflow_id, created_at)`, nodes by the run's primary key), never by loading
 * whole runs; both SQLite and PostgreSQL. See docs/observability.md § Run analytics.
 */
import { type Kysely, PostgresAdapter, sql } from 'kysely';
import type { Database } from '../tables.ts';

/** Time buckets: an hour (`YYYY-MM-DDTHH`) or a day (`YYYY-MM-DD`), by the prefix of the ISO time. */
export type AnalyticsBucket = 'hour' | 'day';

export interface AnalyticsQuery {
  workflowId: string;
  /** Inclusive ISO start of the window. */
  from: string;
  /** Exclusive ISO end of the window. */
  to: string;
  bucket: AnalyticsBucket;
  /** Node statistics cover at most this many of the window's most recent runs (default 1,000). */
  nodeSampleRuns?: number;
}

export interface AnalyticsPoint {
  /** The bucket's start, ISO. */
  start: string;
  /** Runs created in the bucket, by status. */
  byStatus: Record<string, number>;
  runs: number;
  costUsd: number;
  /** Mean cost of the bucket's runs. */
  costPerRunUsd: number;
  /** Duration percentiles of the bucket's finished runs (null: none finished). */
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface NodeStat {
  nodeId: string;
  /** Executions (node rows that ran) in the sampled runs. */
  count: number;
  failed: number;
  avgMs: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  maxMs: number | null;
  totalCostUsd: number;
  avgCostUsd: number;
}

export interface FailureGroup {
  code: string;
  count: number;
  /** The most recent failed run with this code and its message. */
  lastRunId: string;
  lastAt: string;
  message: string;
}

export interface WorkflowAnalytics {
  from: string;
  to: string;
  bucket: AnalyticsBucket;
  totals: {
    runs: number;
    byStatus: Record<string, number>;
    costUsd: number;
    costPerRunUsd: number;
    p50Ms: number | null;
    p95Ms: number | null;
  };
  series: AnalyticsPoint[];
  nodes: {
    /** How many of the window's runs the node statistics cover (the most recent ones). */
    runsSampled: number;
    stats: NodeStat[];
  };
  failures: FailureGroup[];
}

const DEFAULT_NODE_SAMPLE = 1000;
const MAX_FAILURE_GROUPS = 20;

function isPg(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** Every bucket start of [from, to), so a chart shows empty buckets too. */
export function bucketStarts(from: string, to: string, bucket: AnalyticsBucket): string[] {
  const step = bucket === 'hour' ? 3_600_000 : 86_400_000;
  const len = bucket === 'hour' ? 13 : 10;
  const start = Date.parse(`${from.slice(0, len)}${bucket === 'hour' ? ':00:00.000Z' : 'T00:00:00.000Z'}`);
  const end = Date.parse(to);
  const out: string[] = [];
  for (let t = start; t < end && out.length < 2000; t += step) out.push(new Date(t).toISOString());
  return out;
}

/**
 * Durations are binned on a log scale in SQL (bin = floor(ln(ms) · 20), so a bin spans 5 %):
 * percentiles come from the bins' counts, within 2.5 % of the exact value, and a query returns a
 * few hundred rows however many runs the window holds.
 */
const BINS_PER_E = 20;

function binValue(bin: number): number {
  return Math.round(Math.exp((bin + 0.5) / BINS_PER_E));
}

/** Percentile q of a histogram (bin → count), or null when empty. */
export function histogramQuantile(bins: ReadonlyMap<number, number>, q: number): number | null {
  let total = 0;
  for (const n of bins.values()) total += n;
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const bin of [...bins.keys()].sort((a, b) => a - b)) {
    seen += bins.get(bin) ?? 0;
    if (seen >= rank) return binValue(bin);
  }
  return null;
}

function addBin(bins: Map<number, number>, bin: number | null | undefined, n: number): void {
  if (bin === null || bin === undefined) return;
  const b = Number(bin);
  bins.set(b, (bins.get(b) ?? 0) + n);
}

type SeriesRow = { b: string; status: string; bin: number | null; n: number; cost: number };

const HOUR_MS = 3_600_000;
const ACTIVE = sql.raw(`('queued', 'running', 'waiting')`);

export async function workflowAnalytics(db: Kysely<Database>, q: AnalyticsQuery): Promise<WorkflowAnalytics> {
  const pg = isPg(db);
  const len = q.bucket === 'hour' ? 13 : 10;
  const durationMs = pg
    ? sql<number>`(extract(epoch from (finished_at::timestamptz - started_at::timestamptz)) * 1000)`
    : sql<number>`((julianday(finished_at) - julianday(started_at)) * 86400000.0)`;
  const finished = sql`finished_at is not null and started_at is not null`;
  const binExpr = pg
    ? sql<number | null>`case when ${finished} then floor(ln(greatest(${durationMs}, 1)) * ${sql.lit(BINS_PER_E)})::int end`
    : sql<
        number | null
      >`case when ${finished} then cast(floor(ln(max(${durationMs}, 1)) * ${sql.lit(BINS_PER_E)}) as integer) end`;
  const msExpr = sql<number | null>`case when ${finished} then ${durationMs} end`;

  // 1. Per bucket, status and duration bin: the count and cost of the window's runs. On SQLite
  //    the whole hours inside the window come from the hourly rollup (finished runs, migration
  //    0021) plus the hours' unfinished runs (index runs_status); the partial hours at
  //    the window's two ends are aggregated from the runs themselves. On PostgreSQL the whole
  //    window is aggregated from the runs (covering index runs_analytics).
  const rows = pg ? await liveSeriesRows(db, q, len, binExpr) : await rollupSeriesRows(db, q, len, binExpr);

  const starts = bucketStarts(q.from, q.to, q.bucket);
  type Acc = { byStatus: Record<string, number>; runs: number; cost: number; bins: Map<number, number> };
  const fresh = (): Acc => ({ byStatus: {}, runs: 0, cost: 0, bins: new Map() });
  const points = new Map<string, Acc>();
  for (const s of starts) points.set(s.slice(0, len), fresh());
  const totals = fresh();
  for (const r of rows) {
    let p = points.get(r.b);
    if (!p) {
      p = fresh();
      points.set(r.b, p);
    }
    const n = Number(r.n);
    if (n === 0) continue; // a rollup row whose runs all left it
    const cost = Number(r.cost) || 0;
    for (const acc of [p, totals]) {
      if (r.status === '') {
        addBin(acc.bins, r.bin, n); // a rollup duration row: its runs are counted by their status row
        continue;
      }
      acc.runs += n;
      acc.byStatus[r.status] = (acc.byStatus[r.status] ?? 0) + n;
      acc.cost += cost;
      addBin(acc.bins, r.bin, n);
    }
  }
  const series: AnalyticsPoint[] = [...points.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, p]) => ({
      start: q.bucket === 'hour' ? `${key}:00:00.000Z` : `${key}T00:00:00.000Z`,
      byStatus: p.byStatus,
      runs: p.runs,
      costUsd: round(p.cost),
      costPerRunUsd: p.runs ? round(p.cost / p.runs) : 0,
      p50Ms: histogramQuantile(p.bins, 0.5),
      p95Ms: histogramQuantile(p.bins, 0.95),
    }));

  // 2. Failure reasons: the window's failed runs grouped by error code.
  const codeExpr = pg
    ? sql<string>`coalesce(error::jsonb->>'code', 'UNKNOWN')`
    : sql<string>`coalesce(json_extract(error, '$.code'), 'UNKNOWN')`;
  const groups = await db
    .selectFrom('runs')
    .select([codeExpr.as('code'), sql<number>`count(*)`.as('n'), sql<string>`max(created_at)`.as('last_at')])
    .where('workflow_id', '=', q.workflowId)
    .where('created_at', '>=', q.from)
    .where('created_at', '<', q.to)
    .where(sql<boolean>`status = 'failed'`)
    .groupBy(codeExpr)
    .orderBy(sql`count(*)`, 'desc')
    .limit(MAX_FAILURE_GROUPS)
    .execute();
  const failures: FailureGroup[] = [];
  for (const g of groups) {
    const last = await db
      .selectFrom('runs')
      .select(['id', 'error'])
      .where('workflow_id', '=', q.workflowId)
      .where('created_at', '=', g.last_at)
      .where(sql<boolean>`status = 'failed'`)
      .where(codeExpr, '=', g.code)
      .limit(1)
      .executeTakeFirst();
    let message = '';
    try {
      message = String((JSON.parse(last?.error ?? '{}') as { message?: unknown }).message ?? '');
    } catch {
      message = '';
    }
    failures.push({
      code: g.code,
      count: Number(g.n),
      lastRunId: last?.id ?? '',
      lastAt: g.last_at,
      message: message.slice(0, 300),
    });
  }

  // 3. Nodes of the window's most recent runs (each run's nodes by its primary key), aggregated
  //    in SQL; items of a map node (`<id>[<i>]`) are left out: the map node's own row covers them.
  const sample = q.nodeSampleRuns ?? DEFAULT_NODE_SAMPLE;
  const recent = db
    .selectFrom('runs')
    .select('id')
    .where('workflow_id', '=', q.workflowId)
    .where('created_at', '>=', q.from)
    .where('created_at', '<', q.to)
    .orderBy('created_at', 'desc')
    .limit(sample);
  const nodeRows = await db
    .selectFrom('node_runs')
    .select([
      'node_id',
      'status',
      binExpr.as('bin'),
      sql<number>`count(*)`.as('n'),
      sql<number>`coalesce(sum(cost_usd), 0)`.as('cost'),
      sql<number | null>`sum(${msExpr})`.as('ms_sum'),
      sql<number | null>`max(${msExpr})`.as('ms_max'),
    ])
    .where('run_id', 'in', recent)
    .where('status', 'in', ['succeeded', 'failed', 'cancelled'])
    .where('node_id', 'not like', '%[%')
    .groupBy(['node_id', 'status', binExpr])
    .execute();
  type NodeAcc = {
    bins: Map<number, number>;
    count: number;
    timed: number;
    failed: number;
    cost: number;
    msSum: number;
    msMax: number | null;
  };
  const byNode = new Map<string, NodeAcc>();
  for (const r of nodeRows) {
    let s = byNode.get(r.node_id);
    if (!s) {
      s = { bins: new Map(), count: 0, timed: 0, failed: 0, cost: 0, msSum: 0, msMax: null };
      byNode.set(r.node_id, s);
    }
    const n = Number(r.n);
    s.count += n;
    if (r.status === 'failed') s.failed += n;
    s.cost += Number(r.cost) || 0;
    if (r.bin !== null && r.bin !== undefined) {
      s.timed += n;
      addBin(s.bins, r.bin, n);
      s.msSum += Number(r.ms_sum) || 0;
      const max = Math.round(Math.max(0, Number(r.ms_max) || 0));
      s.msMax = s.msMax === null ? max : Math.max(s.msMax, max);
    }
  }
  const stats: NodeStat[] = [...byNode.entries()].map(([nodeId, s]) => ({
    nodeId,
    count: s.count,
    failed: s.failed,
    avgMs: s.timed ? Math.round(s.msSum / s.timed) : null,
    p50Ms: histogramQuantile(s.bins, 0.5),
    p95Ms: histogramQuantile(s.bins, 0.95),
    maxMs: s.msMax,
    totalCostUsd: round(s.cost),
    avgCostUsd: s.count ? round(s.cost / s.count) : 0,
  }));

  return {
    from: q.from,
    to: q.to,
    bucket: q.bucket,
    totals: {
      runs: totals.runs,
      byStatus: totals.byStatus,
      costUsd: round(totals.cost),
      costPerRunUsd: totals.runs ? round(totals.cost / totals.runs) : 0,
      p50Ms: histogramQuantile(totals.bins, 0.5),
      p95Ms: histogramQuantile(totals.bins, 0.95),
    },
    series,
    nodes: { runsSampled: Math.min(sample, totals.runs), stats },
    failures,
  };
}

type BinExpr = ReturnType<typeof sql<number | null>>;

/** The runs created in [from, to) aggregated by bucket, status and duration bin. */
async function liveSeriesRows(
  db: Kysely<Database>,
  q: { workflowId: string; from: string; to: string },
  len: number,
  binExpr: BinExpr,
): Promise<SeriesRow[]> {
  const bucketExpr = sql<string>`substr(created_at, 1, ${sql.lit(len)})`;
  return db
    .selectFrom('runs')
    .select([
      bucketExpr.as('b'),
      'status',
      binExpr.as('bin'),
      sql<number>`count(*)`.as('n'),
      sql<number>`coalesce(sum(cost_usd), 0)`.as('cost'),
    ])
    .where('workflow_id', '=', q.workflowId)
    .where('created_at', '>=', q.from)
    .where('created_at', '<', q.to)
    .groupBy([bucketExpr, 'status', binExpr])
    .execute();
}

/**
 * SQLite: whole hours from the rollup (finished runs) plus their unfinished runs, found through
 * the index on status (there are few of them, across all workflows); the partial end hours live.
 */
async function rollupSeriesRows(db: Kysely<Database>, q: AnalyticsQuery, len: number, binExpr: BinExpr): Promise<SeriesRow[]> {
  const from = Date.parse(q.from);
  const to = Date.parse(q.to);
  const firstWhole = Math.ceil(from / HOUR_MS) * HOUR_MS;
  const endWhole = Math.floor(to / HOUR_MS) * HOUR_MS;
  if (!(firstWhole < endWhole)) return liveSeriesRows(db, q, len, binExpr);
  const a = new Date(firstWhole).toISOString();
  const b = new Date(endWhole).toISOString();
  const rows: SeriesRow[] = [];
  if (q.from < a) rows.push(...(await liveSeriesRows(db, { ...q, to: a }, len, binExpr)));
  if (b < q.to) rows.push(...(await liveSeriesRows(db, { ...q, from: b }, len, binExpr)));
  const runBucket = sql<string>`substr(created_at, 1, ${sql.lit(len)})`;
  const active = await sql<SeriesRow>`
    select ${runBucket} as b, status, ${binExpr} as bin, count(*) as n, coalesce(sum(cost_usd), 0) as cost
    from runs indexed by runs_status
    where status in ${ACTIVE} and workflow_id = ${q.workflowId} and created_at >= ${a} and created_at < ${b}
    group by 1, 2, 3`.execute(db);
  rows.push(...active.rows);
  const hA = a.slice(0, 13);
  const hB = b.slice(0, 13);
  const bucket = len === 13 ? sql<string>`hour` : sql<string>`substr(hour, 1, ${sql.lit(len)})`;
  // By hour and status (the key's order: no sort), folded into days here when the bucket is a day.
  const byStatus = await db
    .selectFrom('analytics_hourly_runs')
    .select(['hour', 'status', sql<number>`sum(runs)`.as('n'), sql<number>`sum(cost_usd)`.as('cost')])
    .where('workflow_id', '=', q.workflowId)
    .where('hour', '>=', hA)
    .where('hour', '<', hB)
    .groupBy(['hour', 'status'])
    .execute();
  for (const r of byStatus)
    rows.push({ b: r.hour.slice(0, len), status: r.status, bin: null, n: Number(r.n), cost: Number(r.cost) });
  const byBin = await db
    .selectFrom('analytics_hourly_runs')
    .select([bucket.as('b'), 'bin', sql<number>`sum(runs)`.as('n')])
    .where('workflow_id', '=', q.workflowId)
    .where('hour', '>=', hA)
    .where('hour', '<', hB)
    .where('bin', '>=', 0)
    .groupBy([bucket, 'bin'])
    .execute();
  // Duration rows carry only the bin: status '' adds nothing to the counts (see the accumulation).
  for (const r of byBin) rows.push({ b: r.b, status: '', bin: Number(r.bin), n: Number(r.n), cost: 0 });
  return rows;
}

/** Cost figures to a micro-dollar (sums of floats otherwise print as 0.30000000000000004). */
function round(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
