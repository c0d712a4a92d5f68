/**
 * Prometheus metrics in the text exposition format (0.0.4), written by hand: the handful of
 * series we export do not justify a client library. Counters and histograms that the server
 * observes live here; gauges that the database knows (runs by status, queue depth, node
 * durations) are read at scrape time by `collectStoreMetrics`.
 */
import type { Database } from '@trellis/store';
import { type Kysely, PostgresAdapter, sql } from 'kysely';
import { nodeDurationSeries } from './node-duration-metrics.ts';

const LATENCY_BUCKETS_S = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly buckets: readonly number[]) {
    this.counts = buckets.map(() => 0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (v <= (this.buckets[i] ?? 0)) this.counts[i] = (this.counts[i] ?? 0) + 1;
  }
  render(name: string, labels = ''): string[] {
    const sep = labels ? `${labels},` : '';
    const lines = this.buckets.map((b, i) => `${name}_bucket{${sep}le="${b}"} ${this.counts[i] ?? 0}`);
    lines.push(`${name}_bucket{${sep}le="+Inf"} ${this.count}`);
    lines.push(`${name}_sum${labels ? `{${labels}}` : ''} ${this.sum}`);
    lines.push(`${name}_count${labels ? `{${labels}}` : ''} ${this.count}`);
    return lines;
  }
}

export class Metrics {
  private readonly requests = new Map<string, number>();
  /** Seconds from an event's commit (`at`) to its delivery to a stream subscriber. */
  readonly eventLag = new Histogram(LATENCY_BUCKETS_S);
  openStreams = 0;
  streamsDroppedSlow = 0;

  countRequest(method: string, route: string, status: number): void {
    const key = `method="${method}",route="${route.replaceAll('"', '')}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  observeEventLag(eventAt: string): void {
    const t = Date.parse(eventAt);
    if (Number.isFinite(t)) this.eventLag.observe(Math.max(0, (Date.now() - t) / 1000));
  }

  renderOwn(): string[] {
    const out = [
      '# HELP trellis_http_requests_total HTTP requests by route and status.',
      '# TYPE trellis_http_requests_total counter',
    ];
    for (const [k, v] of this.requests) out.push(`trellis_http_requests_total{${k}} ${v}`);
    out.push('# HELP trellis_event_lag_seconds Time from an event commit to its delivery to a live subscriber.');
    out.push('# TYPE trellis_event_lag_seconds histogram');
    out.push(...this.eventLag.render('trellis_event_lag_seconds'));
    out.push('# HELP trellis_streams_open Open WebSocket and SSE event streams.', '# TYPE trellis_streams_open gauge');
    out.push(`trellis_streams_open ${this.openStreams}`);
    out.push('# HELP trellis_streams_dropped_slow_total Streams closed because the client could not keep up.');
    out.push(
      '# TYPE trellis_streams_dropped_slow_total counter',
      `trellis_streams_dropped_slow_total ${this.streamsDroppedSlow}`,
    );
    return out;
  }
}

/** What the runner counts about its commits (RunnerEngine.commitStats). */
export interface CommitStats {
  commits: number;
  failed: number;
  fencedRuns: number;
  recommits: number;
}

/** The engine's commit counters: a fenced-out or failed batch is visible to monitoring. */
export function renderCommitStats(stats: CommitStats | undefined): string[] {
  if (!stats) return [];
  return [
    '# HELP trellis_commits_total Batches the runner committed (one transaction each).',
    '# TYPE trellis_commits_total counter',
    `trellis_commits_total ${stats.commits}`,
    '# HELP trellis_commit_failures_total Batches that failed to commit (fenced out or database error).',
    '# TYPE trellis_commit_failures_total counter',
    `trellis_commit_failures_total ${stats.failed}`,
    '# HELP trellis_commit_fenced_runs_total Runs whose uncommitted work was discarded because another worker holds them now.',
    '# TYPE trellis_commit_fenced_runs_total counter',
    `trellis_commit_fenced_runs_total ${stats.fencedRuns}`,
    '# HELP trellis_commit_recommits_total Batches committed again after renewing a lease that had expired unclaimed.',
    '# TYPE trellis_commit_recommits_total counter',
    `trellis_commit_recommits_total ${stats.recommits}`,
  ];
}

/**
 * Reads the database-backed series: runs by status, queue depth, node attempt durations — and,
 * when `perWorkflow`, the per-workflow series (they name workflows, so only administrators and
 * public-metrics scrapers get them).
 */
export async function collectStoreMetrics(db: Kysely<Database>, options: { perWorkflow: boolean }): Promise<string[]> {
  const out: string[] = [];
  const byStatus = await db
    .selectFrom('runs')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('status')
    .execute();
  out.push('# HELP trellis_runs Runs by status.', '# TYPE trellis_runs gauge');
  for (const r of byStatus) out.push(`trellis_runs{status="${r.status}"} ${Number(r.n)}`);

  const queuedRuns = await db
    .selectFrom('runs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'queued')
    .executeTakeFirst();
  const queuedNodes = await db
    .selectFrom('node_runs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', 'in', ['queued', 'retrying'])
    .executeTakeFirst();
  out.push('# HELP trellis_queue_depth Work waiting for a worker.', '# TYPE trellis_queue_depth gauge');
  out.push(`trellis_queue_depth{kind="runs"} ${Number(queuedRuns?.n ?? 0)}`);
  out.push(`trellis_queue_depth{kind="nodes"} ${Number(queuedNodes?.n ?? 0)}`);

  if (options.perWorkflow) out.push(...(await workflowSeries(db)));

  // Durations of finished attempts by node type, bucketed in SQL (node-duration-metrics.ts).
  out.push(...(await nodeDurationSeries(db)));
  return out;
}

/** At most this many workflows get their own label value; the rest are summed under `other`. */
export const MAX_WORKFLOW_LABELS = 50;
const CLAIM_BUCKETS_S = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300];

function labelValue(v: string): string {
  return v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', ' ');
}

/**
 * Per-workflow series with bounded label cardinality: runs by workflow and status, and the cost
 * of each workflow's runs. The workflows with the most runs (at most MAX_WORKFLOW_LABELS) are
 * labelled by id; all others are summed under `workflow="other"`. Builder test runs (scratch
 * workflows) are left out. Plus the claim latency: from a run's creation to its start.
 */
async function workflowSeries(db: Kysely<Database>): Promise<string[]> {
  const rows = await db
    .selectFrom('runs')
    .innerJoin('workflows', 'workflows.id', 'runs.workflow_id')
    .select([
      'runs.workflow_id as wf',
      'runs.status as status',
      sql<number>`count(*)`.as('n'),
      sql<number>`coalesce(sum(runs.cost_usd), 0)`.as('cost'),
    ])
    .where(sql<boolean>`workflows.scratch_of is null`)
    .groupBy(['runs.workflow_id', 'runs.status'])
    .execute();
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(r.wf, (totals.get(r.wf) ?? 0) + Number(r.n));
  const kept = new Set(
    [...totals.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, MAX_WORKFLOW_LABELS)
      .map(([wf]) => wf),
  );
  const runs = new Map<string, number>();
  const cost = new Map<string, number>();
  for (const r of rows) {
    const wf = kept.has(r.wf) ? r.wf : 'other';
    const k = `workflow="${labelValue(wf)}",status="${labelValue(r.status)}"`;
    runs.set(k, (runs.get(k) ?? 0) + Number(r.n));
    const c = `workflow="${labelValue(wf)}"`;
    cost.set(c, (cost.get(c) ?? 0) + (Number(r.cost) || 0));
  }
  const out = [
    `# HELP trellis_workflow_runs Runs by workflow and status (the ${MAX_WORKFLOW_LABELS} workflows with the most runs by id, the rest as workflow="other").`,
    '# TYPE trellis_workflow_runs gauge',
  ];
  for (const [k, v] of runs) out.push(`trellis_workflow_runs{${k}} ${v}`);
  out.push(
    '# HELP trellis_workflow_cost_usd_total Cost of the runs of each workflow, in US dollars (same workflow labels).',
    '# TYPE trellis_workflow_cost_usd_total counter',
  );
  for (const [k, v] of cost) out.push(`trellis_workflow_cost_usd_total{${k}} ${Math.round(v * 1e6) / 1e6}`);

  const secs =
    db.getExecutor().adapter instanceof PostgresAdapter
      ? sql<number>`extract(epoch from (started_at::timestamptz - created_at::timestamptz))`
      : sql<number>`(julianday(started_at) - julianday(created_at)) * 86400.0`;
  const cols = CLAIM_BUCKETS_S.map((b, i) => sql<number>`sum(case when ${secs} <= ${b} then 1 else 0 end)`.as(`b${i}`));
  const row = (await db
    .selectFrom('runs')
    .select([...cols, sql<number>`count(*)`.as('n'), sql<number>`coalesce(sum(${secs}), 0)`.as('total')])
    .where('started_at', 'is not', null)
    .executeTakeFirst()) as Record<string, number | null> | undefined;
  out.push(
    "# HELP trellis_run_claim_seconds Time from a run's creation to its start (a worker claiming it).",
    '# TYPE trellis_run_claim_seconds histogram',
  );
  CLAIM_BUCKETS_S.forEach((b, i) => {
    out.push(`trellis_run_claim_seconds_bucket{le="${b}"} ${Number(row?.[`b${i}`] ?? 0)}`);
  });
  out.push(`trellis_run_claim_seconds_bucket{le="+Inf"} ${Number(row?.n ?? 0)}`);
  out.push(`trellis_run_claim_seconds_sum ${Number(row?.total ?? 0)}`);
  out.push(`trellis_run_claim_seconds_count ${Number(row?.n ?? 0)}`);
  return out;
}
