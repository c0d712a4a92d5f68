/**
 * `map` node benchmarks:
 *
 * 1. A map of 10,000 items of a no-op tool, concurrency 64, durable on SQLite: engine overhead
 *    per item (wall time ÷ items: the tool does nothing) and the growth of the resident set over
 *    the run (peak RSS during the run − RSS before it).
 * 2. A map of 200 items sleeping 5–50 ms, concurrency 8: the makespan against the ideal schedule
 *    of that concurrency (each item, in order, on the slot that frees first), which the bench
 *    computes. Target: within 2 % + 10 ms.
 * 3. The 10,000-item map on PostgreSQL 15 with two `trellis worker` processes (the run started by
 *    an API-only process): items per second, and every item executed exactly once (one attempt
 *    row each). `trellis worker` has no no-op tool, so the items are `transform` bodies there.
 *
 *   npx tsx --expose-gc bench/map.ts [--quick] [--no-postgres]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { RunnerEngine } from '@trellis/runtime';
import { createEngine } from '@trellis/runtime';
import { createWorkflow, openStore } from '@trellis/store';
import { startPostgres } from '../packages/store/test/helpers/postgres.ts';
import { engineFixture, fanOut } from './lib/engine-fixture.ts';
import { machineLoad, printTable, type Row, writeResults } from './lib/report.ts';

const quick = process.argv.includes('--quick');
const withPostgres = !process.argv.includes('--no-postgres');
const N = quick ? 2000 : 10_000;
const bin = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'trellis.mjs');

const gc = (globalThis as { gc?: () => void }).gc;

function mapDef(n: number, concurrency: number, body: Record<string, unknown>, items = `[1..${n}]`) {
  return {
    name: `map-${n}`,
    nodes: [
      { id: 'src', type: 'transform', expression: items },
      { id: 'per', type: 'map', items: '$src', concurrency, maxItems: Math.max(n, 1), do: body },
    ],
    edges: [{ from: 'src', to: 'per' }],
  } as never;
}

function waitEnd(engine: RunnerEngine, runId: string): Promise<void> {
  return new Promise((resolve) => {
    const sub = engine.subscribe(runId, {
      after: 0,
      onEvent: () => {},
      onEnd: () => {
        sub.close();
        resolve();
      },
    });
  });
}

/** Each item, in input order, on the slot that frees first: the makespan of `durations` on `slots`. */
export function idealMakespan(durations: readonly number[], slots: number): number {
  const free = new Array<number>(slots).fill(0);
  for (const d of durations) {
    let k = 0;
    for (let j = 1; j < slots; j++) if ((free[j] as number) < (free[k] as number)) k = j;
    free[k] = (free[k] as number) + d;
  }
  return Math.max(...free);
}

const results: Record<string, unknown> = { load: machineLoad() };

// ── 1. 10,000 no-op items on SQLite ──────────────────────────────────────────
{
  const f = await engineFixture();
  // Warm-up: a small map, so that compilation and statement caches are not measured.
  const warm = await f.save(mapDef(200, 64, { type: 'tool_call', tool: 'noop' }));
  const w = await f.engine.startRun({ workflowId: warm, version: 1, input: {} });
  await waitEnd(f.engine, w.runId);
  const id = await f.save(mapDef(N, 64, { type: 'tool_call', tool: 'noop', input: { n: '$item' } }));
  gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const t0 = performance.now();
  const { runId } = await f.engine.startRun({ workflowId: id, version: 1, input: {} });
  await waitEnd(f.engine, runId);
  const ms = performance.now() - t0;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const rec = await f.engine.getRun(runId);
  const ok = rec?.status === 'succeeded' && (rec.output as { per: { items: unknown[] } }).per.items.length === N;
  // Reference on the same machine, same moment: plain tool_call nodes (a fan-out of 1,000).
  const fan = await f.save(fanOut(1000));
  const tf = performance.now();
  const r2 = await f.engine.startRun({ workflowId: fan, version: 1, input: {} });
  await waitEnd(f.engine, r2.runId);
  const fanUs = ((performance.now() - tf) * 1000) / 1002;
  await f.close();
  const rows: Row[] = [
    {
      items: N,
      concurrency: 64,
      'run ms': ms,
      'µs / item': (ms * 1000) / N,
      'target µs': 100,
      'RSS growth MB': (peak - rss0) / 1e6,
      'target MB': 50,
      correct: ok ? 'yes' : 'NO',
      'ref: µs / plain node': fanUs,
    },
  ];
  results.sqlite = rows;
  printTable(`Map of ${N} no-op tool items, durable on SQLite (${machineLoad()})`, rows);
}

// ── 2. 200 sleeping items, concurrency 8: makespan vs the ideal schedule ─────
{
  const f = await engineFixture();
  // Deterministic durations 5–50 ms.
  let seed = 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const durations = Array.from({ length: 200 }, () => 5 + Math.round(rand() * 45));
  const id = await f.save(mapDef(200, 8, { type: 'tool_call', tool: 'sleep', input: { ms: '$item' } }, '$context.durations'));
  const rows: Row[] = [];
  for (let rep = 0; rep < (quick ? 1 : 3); rep++) {
    const { runId } = await f.engine.startRun({ workflowId: id, version: 1, input: { durations } });
    await waitEnd(f.engine, runId);
    const rec = (await f.engine.getRun(runId))!;
    if (rec.status !== 'succeeded') throw new Error(`the sleeping map ${rec.status}: ${JSON.stringify(rec.error)}`);
    const items = Object.values(rec.nodes.per!.items ?? {});
    const first = Math.min(...items.map((i) => Date.parse(i.startedAt ?? '')));
    const last = Math.max(...items.map((i) => Date.parse(i.finishedAt ?? '')));
    const makespan = last - first;
    const ideal = idealMakespan(durations, 8);
    const bound = ideal * 1.02 + 10;
    rows.push({
      run: rep + 1,
      items: 200,
      concurrency: 8,
      'ideal ms': ideal,
      'makespan ms': makespan,
      'over ideal %': ((makespan - ideal) / ideal) * 100,
      'bound ms (2 % + 10)': bound,
      within: makespan <= bound ? 'yes' : 'no',
    });
  }
  await f.close();
  results.makespan = rows;
  printTable('Map of 200 items sleeping 5–50 ms, concurrency 8: makespan vs the ideal schedule', rows);
}

// ── 3. PostgreSQL, two `trellis worker` processes ───────────────────────────
function startWorker(url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [bin, 'worker', '--db', url, '--lease-ms', '10000'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('"worker started"')) resolve(child);
    });
    child.on('exit', (c) => reject(new Error(`worker exited (${c})`)));
  });
}

if (withPostgres) {
  const pg = await startPostgres({ settings: { synchronous_commit: 'off' } });
  try {
    const url = await pg.createDatabase('benchmap');
    const store = await openStore(url);
    const api = createEngine({ store: store.runs, leasing: { store: store.leases!, execute: false } });
    await api.whenReady();
    const { id } = await createWorkflow(store.db, {
      name: 'pg-map',
      definition: mapDef(N, 64, { type: 'transform', expression: '$item' }),
      owner: 'bench',
    });
    const procs = await Promise.all([startWorker(url), startWorker(url)]);
    const rows: Row[] = [];
    try {
      const t0 = performance.now();
      const { runId } = await api.startRun({ workflowId: id, version: 1, input: {} });
      await waitEnd(api, runId);
      const ms = performance.now() - t0;
      const counts = await store.db
        .selectFrom('attempts')
        .select(['node_id'])
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('run_id', '=', runId)
        .where('node_id', 'like', 'per[%')
        .groupBy('node_id')
        .execute();
      const twice = counts.filter((c) => Number(c.n) > 1).length;
      const status = await store.runs.getRunStatus(runId);
      rows.push({
        workers: 2,
        items: N,
        concurrency: 64,
        'run ms': ms,
        'items / s': N / (ms / 1000),
        'items with an attempt': counts.length,
        'executed twice': twice,
        status: status ?? '?',
      });
    } finally {
      for (const p of procs) p.kill('SIGTERM');
      await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.on('exit', r)))));
      await api.shutdown(0);
      await store.close();
    }
    results.postgres = rows;
    printTable(`Map of ${N} transform items on PostgreSQL 15, two trellis worker processes`, rows);
  } finally {
    await pg.destroy();
  }
}

writeResults('map', results);
process.exit(0);
