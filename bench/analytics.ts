/**
 * Run analytics on SQLite (issue 20): the time of the workflow analytics page's queries
 * (`workflowAnalytics`, what `GET /workflows/:id/analytics` runs) on a database holding 100,000
 * runs of the workflow over 30 days and 1,000,000 node rows (10 per run). Seeded with bulk
 * inserts in one transaction. Prints wall time and the process's CPU time (the latter means
 * something on a loaded shared machine, where wall time mostly measures waiting for a core).
 *
 *   npx tsx bench/analytics.ts [--quick] [--db <file>]
 *   --quick: 10,000 runs, 100,000 node rows; --db: seed into (or reuse) this file and keep it.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openSqlite, workflowAnalytics } from '@trellis/store';
import { machineLoad, median, printTable, type Row, writeResults } from './lib/report.ts';

const quick = process.argv.includes('--quick');
const RUNS = quick ? 10_000 : 100_000;
const NODES_PER_RUN = 10;
const DAYS = 30;
const REPS = quick ? 3 : 5;
const WORKFLOW = 'wf_bench_analytics';

const dbArg = process.argv.indexOf('--db');
const keep = dbArg > 0 ? process.argv[dbArg + 1] : undefined;
const dir = mkdtempSync(join(tmpdir(), 'trellis-bench-analytics-'));
const reuse = keep !== undefined && existsSync(keep);
const handle = await openSqlite(keep ?? join(dir, 'trellis.db'));
const raw = handle.raw;

// ── seed ─────────────────────────────────────────────────────────────────────
const seedStart = performance.now();
const now = reuse
  ? Date.parse((raw.prepare('select max(created_at) from runs').pluck().get() as string) ?? '') + 1000
  : Date.now();
const iso = (t: number) => new Date(t).toISOString();
let seed = 42;
const rand = () => {
  // xorshift: the same data on every run
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return ((seed >>> 0) % 1_000_000) / 1_000_000;
};
const nodeIds = Array.from({ length: NODES_PER_RUN }, (_, i) => `step_${i}`);
const CODES = ['AGENT_ERROR', 'TOOL_ERROR', 'TIMEOUT'];
if (!reuse) seedAll();
function seedAll(): void {
  raw
    .prepare(
      "insert into workflows (id, name, description, owner, latest_version, created_at, updated_at) values (?, 'analytics bench', null, 'bench', 1, ?, ?)",
    )
    .run(WORKFLOW, iso(now), iso(now));
  const insRun = raw.prepare(
    `insert into runs (id, workflow_id, version, status, input, output, error, cost_usd, created_by, created_at, started_at, finished_at, deadline_at, last_seq, worker_id, lease_expires_at, cancel_requested)
   values (?, ?, 1, ?, '{}', null, ?, ?, 'bench', ?, ?, ?, null, 1, null, null, 0)`,
  );
  const insNode = raw.prepare(
    `insert into node_runs (run_id, node_id, status, attempt, input, output, error, cost_usd, started_at, finished_at, next_attempt_at, prompt, wait_until, remote_ref, decision, taken)
   values (?, ?, ?, 1, null, null, null, ?, ?, ?, null, null, null, null, null, null)`,
  );
  raw.transaction(() => {
    for (let i = 0; i < RUNS; i++) {
      const created = now - Math.floor((i / RUNS) * DAYS * 86_400_000) - 1000;
      const r = rand();
      const status = r < 0.85 ? 'succeeded' : r < 0.95 ? 'failed' : 'cancelled';
      const error =
        status === 'failed'
          ? JSON.stringify({ code: CODES[i % CODES.length], message: `step failed (${i % 7})`, retryable: false })
          : null;
      const id = `run_${String(i).padStart(7, '0')}`;
      let t = created + 5;
      let cost = 0;
      const last = status === 'succeeded' ? NODES_PER_RUN : 1 + Math.floor(rand() * NODES_PER_RUN);
      for (let n = 0; n < NODES_PER_RUN; n++) {
        const ran = n < last;
        const ms = 5 + Math.floor(rand() * (n === 3 ? 4000 : 400));
        const c = n === 5 ? 0.01 + rand() * 0.05 : n === 7 ? rand() * 0.002 : 0;
        const s = ran ? (n === last - 1 && status !== 'succeeded' ? status : 'succeeded') : 'skipped';
        insNode.run(id, nodeIds[n], s, ran ? c : 0, ran ? iso(t) : null, ran ? iso(t + ms) : null);
        if (ran) {
          t += ms;
          cost += c;
        }
      }
      insRun.run(id, WORKFLOW, status, error, cost, iso(created), iso(created + 5), iso(t));
    }
  })();
  raw.pragma('optimize');
}
const seedMs = performance.now() - seedStart;
const nodeRows = raw.prepare('select count(*) from node_runs').pluck().get() as number;

// ── measure ──────────────────────────────────────────────────────────────────
const windows = [
  { window: '24h', ms: 86_400_000, bucket: 'hour' as const },
  { window: '7d', ms: 7 * 86_400_000, bucket: 'hour' as const },
  { window: '30d', ms: 30 * 86_400_000, bucket: 'day' as const },
];
const rows: Row[] = [];
const data: Record<string, unknown>[] = [];
for (const w of windows) {
  const q = { workflowId: WORKFLOW, from: iso(now - w.ms), to: iso(now + 1000), bucket: w.bucket };
  await workflowAnalytics(handle.db, q); // warm the page cache
  const times: number[] = [];
  const cpu: number[] = [];
  let result: Awaited<ReturnType<typeof workflowAnalytics>> | undefined;
  for (let i = 0; i < REPS; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    result = await workflowAnalytics(handle.db, q);
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  const ms = median(times);
  const cpuMs = median(cpu);
  rows.push({
    window: w.window,
    'runs in window': result?.totals.runs ?? 0,
    buckets: result?.series.length ?? 0,
    'node rows read': (result?.nodes.stats ?? []).reduce((a, s) => a + s.count, 0),
    'failure codes': result?.failures.length ?? 0,
    'ms (median)': ms,
    'ms (max)': Math.max(...times),
    'CPU ms (median)': cpuMs,
    '≤ 200 ms': ms <= 200 ? 'yes' : 'NO',
  });
  data.push({ window: w.window, runsInWindow: result?.totals.runs, medianMs: ms, medianCpuMs: cpuMs, times, cpu });
}

printTable(
  `Workflow analytics queries on SQLite: ${RUNS.toLocaleString('en')} runs, ${nodeRows.toLocaleString('en')} node rows (seeded in ${(seedMs / 1000).toFixed(1)} s); median of ${REPS}`,
  rows,
);
process.stdout.write(`${machineLoad()}\n`);
const file = writeResults('analytics', { runs: RUNS, nodeRows, seedMs, windows: data, load: machineLoad() });
process.stdout.write(`wrote ${file}\n`);
await handle.close();
rmSync(dir, { recursive: true, force: true });
