/**
 * PostgreSQL benchmark on a throwaway PostgreSQL 15 (synchronous_commit=off), three tables:
 *
 * 1. Per-step cost: chains of 100 and 1,000 tool nodes (a no-op tool) and built-in nodes
 *    (transform), executed by one leased worker engine in this process: µs per step, database
 *    CPU ms per step (utime+stime of every PostgreSQL process, from /proc), engine CPU per step,
 *    and commits (round trips) per step; each shape after a warm-up of 1,000 steps (DBOS too).
 * 2. Scale-out: five-node runs per second with 1, 2 and 4 `trellis worker` processes, started
 *    by an API-only process, 64 in flight, after a warm-up of 400 runs per worker (each worker
 *    process compiles the engine and its sandbox's expressions for itself: 20 warm runs left
 *    the 4-worker round measuring four cold processes); the latency from start to the first
 *    node.started (seen by the starter: notification + claim + commit + notification; and
 *    stamped by the worker: up to the claim and load), also with one run in flight; CPU per
 *    run of the database, the workers and the API process; how busy the whole machine was
 *    (every process on it, ours or not); and the runs/s the database alone could carry on this
 *    machine's cores at its CPU per run (the ceiling).
 * 3. The run invariant checker's verdict over every run the benchmark made.
 * 4. Side by side with DBOS Transact (@dbos-inc/dbos-sdk, a devDependency) on the same
 *    PostgreSQL in the same sitting: a DBOS workflow of 100 and 1,000 no-op steps, each step
 *    checkpointed, run in a child process (bench/lib/dbos-chain.ts); µs and database CPU per
 *    step next to Trellis's tool chains.
 *
 *   npx tsx bench/postgres.ts [--quick]
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { createEngine, type RunnerEngine } from '@trellis/runtime';
import { checkRunInvariants, createWorkflow, openStore } from '@trellis/store';
import { pgNode, saveWorkflow } from '../packages/runtime/test/pg-harness.ts';
import { builtinChain, toolChain } from '../packages/runtime/test/shapes.ts';
import { startPostgres } from '../packages/store/test/helpers/postgres.ts';
import { fiveNodes } from './lib/engine-fixture.ts';
import { median, printTable, type Row, writeResults } from './lib/report.ts';

const quick = process.argv.includes('--quick');
/**
 * Steps run before each measured chain shape, by Trellis and by DBOS alike. With 1,000 the
 * first shape (100 tool nodes) was still measuring V8 optimising the engine (engine CPU 0.36
 * ms/step against 0.18 for the next shape, same code path).
 */
const WARM_STEPS = 3000;
const runsPerRound = quick ? 150 : 600;
/** Rounds of the per-step chains, Trellis and DBOS alternating (the tables give medians). */
const STEP_ROUNDS = quick ? 1 : 3;
/** Five-node runs before the measured round, per worker process (each warms up on its own). */
const warmRunsPerWorker = quick ? 200 : 400;
const bin = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'trellis.mjs');

const five = fiveNodes((id) => ({ type: 'transform', expression: id === 'a' ? '$context.i' : `$a + ${'abcd'.indexOf(id)}` }));

/** CPU seconds used so far by the PostgreSQL server (postmaster and all its backends). */
function postgresCpuSeconds(dir: string): number {
  const pid = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const pids = [
    pid,
    ...execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number),
  ];
  const hz = 100;
  let ticks = 0;
  for (const p of pids) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      // a backend that exited meanwhile
    }
  }
  return ticks / hz;
}

/** CPU seconds used so far by these processes (all their threads). */
function processCpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const p of pids) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks / 100;
}

/** The machine's busy and total CPU time so far (every process on it; /proc/stat). */
function machineTicks(): { busy: number; total: number } {
  const [user, nice, system, idle, iowait, irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number) as number[];
  const busy = user! + nice! + system! + irq! + softirq! + steal!;
  return { busy, total: busy + idle! + iowait! };
}

function startWorker(url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [bin, 'worker', '--db', url, '--lease-ms', '5000'], {
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

/**
 * When a run's first node.started reaches `engine` (ms after `t0`), and when the worker stamped
 * it (ms after `wall0`, the wall clock at the start: same machine, millisecond resolution).
 */
function firstStarted(
  engine: RunnerEngine,
  runId: string,
  t0: number,
  wall0: number,
): Promise<{ claimMs: number; pickupMs: number; done: Promise<void> }> {
  return new Promise((resolve) => {
    let claimMs = -1;
    let finish!: () => void;
    const done = new Promise<void>((r) => {
      finish = r;
    });
    const sub = engine.subscribe(runId, {
      after: 0,
      onEvent: (e) => {
        if (claimMs < 0 && e.type === 'node.started') {
          claimMs = performance.now() - t0;
          resolve({ claimMs, pickupMs: Date.parse(e.at) - wall0, done });
        }
      },
      onEnd: () => {
        sub.close();
        finish();
      },
    });
  });
}

const noop = { execute: async () => ({ kind: 'succeeded' as const, output: null }) };

/** Per-step cost of chains on one leased worker engine (as `trellis serve` or `trellis worker` runs them). */
async function perStep(url: string): Promise<Row[]> {
  const out: Row[] = [];
  const w = await pgNode(url, { tools: { noop }, leaseMs: 15_000 });
  try {
    const shapes = [
      ['tool', 100, toolChain(100)],
      ['tool', 1000, toolChain(1000)],
      ['built-in', 100, builtinChain(100)],
      ['built-in', 1000, builtinChain(1000)],
    ] as const;
    for (const [kind, n, def] of shapes) {
      const wf = await saveWorkflow(w.store, def);
      const run = async () => w.engine.waitForRun((await w.engine.startRun({ workflowId: wf, version: 1, input: {} })).runId);
      // Warm-up of at least 1,000 steps per shape (prepared statements, JIT): the figure is the
      // steady state. One run of 100 steps left the first shape measuring V8 compiling the
      // engine (engine CPU 0.87 ms/step after 10 warm runs, 0.48 after 40, same code).
      for (let i = Math.ceil(WARM_STEPS / n); i > 0; i--) await run();
      const reps = Math.max(quick ? 1 : 2, Math.round((quick ? 1000 : 3000) / n));
      const cpu0 = postgresCpuSeconds(pg.dir);
      const own0 = process.cpuUsage();
      const commits0 = w.engine.commitStats.commits;
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) {
        const rec = await run();
        if (rec.status !== 'succeeded') throw new Error(`a ${kind} chain run ended ${rec.status}`);
      }
      const ms = performance.now() - t0;
      const steps = reps * n;
      const own = process.cpuUsage(own0);
      out.push({
        chain: `${n} ${kind} nodes`,
        runs: reps,
        'µs / step': (ms * 1000) / steps,
        'db CPU ms / step': ((postgresCpuSeconds(pg.dir) - cpu0) * 1000) / steps,
        'engine CPU ms / step': (own.user + own.system) / 1000 / steps,
        'commits / step': (w.engine.commitStats.commits - commits0) / steps,
      });
    }
  } finally {
    await w.close();
  }
  return out;
}

/**
 * One row per `key` with the median of every numeric column over the rounds, and the range of
 * µs / step (rounds that failed, rows with an `error`, are left out).
 */
function medianRows(rounds: readonly Row[][], key: string): Row[] {
  const first = rounds.find((r) => r.length > 0 && r.every((x) => x.error === undefined));
  if (!first) return [];
  return first.map((row) => {
    const same = rounds.flatMap((r) => r.filter((x) => x[key] === row[key] && x.error === undefined));
    const out: Row = {};
    for (const [col, v] of Object.entries(row)) {
      out[col] = typeof v === 'number' ? median(same.map((x) => x[col] as number)) : v;
      if (col === 'µs / step') {
        const all = same.map((x) => x[col] as number);
        out['µs / step, range'] = `${Math.round(Math.min(...all))}–${Math.round(Math.max(...all))}`;
      }
    }
    return out;
  });
}

/** Load average now (1, 5, 15 min), printed with the figures: on a shared machine they depend on it. */
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

interface DbosFigures {
  steps: number;
  runs: number;
  ms: number;
  cpuMs: number;
  dbCpuMs: number;
}

/**
 * DBOS chains in a child process (its runtime is a process-wide singleton). The child marks the
 * start and end of each measured round on stdout and waits for an answer, so the database's
 * CPU is read exactly around it.
 */
function dbosChains(url: string, lengths: readonly number[], reps: readonly number[], warm: number): Promise<DbosFigures[]> {
  const child = spawn(
    process.execPath,
    [
      '--no-deprecation',
      '--import',
      'tsx',
      join(import.meta.dirname, 'lib', 'dbos-chain.ts'),
      url,
      lengths.join(','),
      reps.join(','),
      String(warm),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    const db = new Map<number, number>();
    let start = 0;
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        let msg: { mark?: 'start' | 'end'; steps?: number; result?: Omit<DbosFigures, 'dbCpuMs'>[] };
        try {
          msg = JSON.parse(line);
        } catch {
          continue; // a log line
        }
        if (msg.mark === 'start') start = postgresCpuSeconds(pg.dir);
        if (msg.mark === 'end') db.set(msg.steps!, (postgresCpuSeconds(pg.dir) - start) * 1000);
        if (msg.mark) child.stdin!.write('go\n');
        if (msg.result) resolve(msg.result.map((r) => ({ ...r, dbCpuMs: db.get(r.steps) ?? Number.NaN })));
      }
    });
    child.on('exit', (code) => reject(new Error(`the DBOS bench process exited (${code}) before reporting`)));
  });
}

const pg = await startPostgres({ settings: { synchronous_commit: 'off' } });
const rows: Row[] = [];
const steps: Row[] = [];
const verdicts: Row[] = [];
const sideBySide: Row[] = [];
const urls: [string, string][] = [];
const stepRounds: Row[][] = [];
const dbosRounds: Row[][] = [];
try {
  // Rounds alternate Trellis and DBOS, each on fresh databases of the same server: on a shared
  // machine one sitting of each can land on a slow minute; the tables give each figure's median
  // over the rounds and the range of µs / step.
  const lengths = [100, 1000];
  for (let round = 0; round < STEP_ROUNDS; round++) {
    const stepUrl = await pg.createDatabase(`steps${round}`);
    urls.push([`per-step chains, round ${round + 1}`, stepUrl]);
    stepRounds.push(await perStep(stepUrl));
    // DBOS in the same sitting, on the same server, with the same chain lengths and step counts.
    const dbosUrl = await pg.createDatabase(`dbos${round}`);
    try {
      const figures = await dbosChains(
        dbosUrl,
        lengths,
        lengths.map((n) => Math.max(quick ? 1 : 2, Math.round((quick ? 1000 : 3000) / n))),
        WARM_STEPS,
      );
      dbosRounds.push(
        figures.map((f) => {
          const n = f.steps * f.runs;
          return {
            engine: 'DBOS 5.3 (steps)',
            steps: f.steps,
            runs: f.runs,
            'µs / step': (f.ms * 1000) / n,
            'db CPU ms / step': f.dbCpuMs / n,
            'process CPU ms / step': f.cpuMs / n,
          };
        }),
      );
    } catch (err) {
      // Say why instead of failing the whole benchmark: the Trellis figures stand on their own.
      dbosRounds.push([{ engine: 'DBOS 5.3', steps: 0, runs: 0, error: String(err) }]);
    }
  }
  steps.push(...medianRows(stepRounds, 'chain'));
  printTable(
    `Per step, one worker engine in this process (chains; a no-op tool; transform nodes): median of ${STEP_ROUNDS} round(s); load ${load()}`,
    steps,
  );
  for (const n of lengths) {
    const trellis = steps.find((r) => r.chain === `${n} tool nodes`);
    if (trellis)
      sideBySide.push({
        engine: 'Trellis (tool nodes)',
        steps: n,
        runs: trellis.runs!,
        'µs / step': trellis['µs / step']!,
        'µs / step, range': trellis['µs / step, range']!,
        'db CPU ms / step': trellis['db CPU ms / step']!,
        'process CPU ms / step': trellis['engine CPU ms / step']!,
      });
    const dbos = medianRows(
      dbosRounds.map((r) => r.filter((x) => x.steps === n)),
      'engine',
    );
    sideBySide.push(...(dbos.length ? dbos : (dbosRounds.at(-1) ?? []).filter((x) => x.error !== undefined)));
    // Each round's Trellis and DBOS ran minutes apart on the same server: their ratio is the figure a
    // busy machine moves least.
    const ratios = stepRounds.flatMap((round, i) => {
      const t = round.find((r) => r.chain === `${n} tool nodes`)?.['µs / step'];
      const d = dbosRounds[i]?.find((r) => r.steps === n && r.error === undefined)?.['µs / step'];
      return typeof t === 'number' && typeof d === 'number' ? [t / d] : [];
    });
    if (ratios.length)
      sideBySide.push({
        engine: 'Trellis ÷ DBOS, per round',
        steps: n,
        runs: '',
        'µs / step': median(ratios).toFixed(2),
        'µs / step, range': `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`,
      });
  }
  printTable(`Side by side on the same PostgreSQL: a chain of no-op steps, rounds alternating; load ${load()}`, sideBySide);
  const cores = availableParallelism();
  for (const workers of [1, 2, 4]) {
    const url = await pg.createDatabase(`bench${workers}`);
    urls.push([`five-node runs, ${workers} worker(s)`, url]);
    const store = await openStore(url);
    const api = createEngine({ store: store.runs, leasing: { store: store.leases!, execute: false } });
    await api.whenReady();
    const { id } = await createWorkflow(store.db, { name: 'five', definition: five, owner: 'bench' });
    const procs = await Promise.all(Array.from({ length: workers }, () => startWorker(url)));
    try {
      /** `total` runs, `inFlight` at a time; the latencies to each run's first node.started. */
      const round = async (total: number, inFlight: number) => {
        const claims: number[] = [];
        const pickups: number[] = [];
        let next = 0;
        const lane = async () => {
          while (next < total) {
            const i = next++;
            const s = performance.now();
            const wall = Date.now();
            const { runId } = await api.startRun({ workflowId: id, version: 1, input: { i } });
            const { claimMs, pickupMs, done } = await firstStarted(api, runId, s, wall);
            claims.push(claimMs);
            pickups.push(pickupMs);
            await done;
          }
        };
        await Promise.all(Array.from({ length: inFlight }, lane));
        claims.sort((a, b) => a - b);
        pickups.sort((a, b) => a - b);
        return { claims, pickups };
      };
      // Warm-up (every worker process, and this one), then one run at a time, then the measured round.
      await round(warmRunsPerWorker * workers, 64);
      const idle = await round(quick ? 20 : 50, 1);
      const cpu0 = postgresCpuSeconds(pg.dir);
      const workerPids = procs.map((p) => p.pid!);
      const workers0 = processCpuSeconds(workerPids);
      const own0 = process.cpuUsage();
      const machine0 = machineTicks();
      const t0 = performance.now();
      const { claims, pickups } = await round(runsPerRound, 64);
      const secs = (performance.now() - t0) / 1000;
      const cpu = postgresCpuSeconds(pg.dir) - cpu0;
      const workersCpu = processCpuSeconds(workerPids) - workers0;
      const own = process.cpuUsage(own0);
      const machine1 = machineTicks();
      const dbMsPerRun = (cpu * 1000) / runsPerRound;
      rows.push({
        workers,
        runs: runsPerRound,
        'runs / s': runsPerRound / secs,
        'claim p50 ms': median(claims),
        'claim p99 ms': claims[Math.floor(claims.length * 0.99)] ?? 0,
        'pickup p50 ms': median(pickups),
        'claim p50 ms, 1 in flight': median(idle.claims),
        'pickup p50 ms, 1 in flight': median(idle.pickups),
        'db CPU ms / run': dbMsPerRun,
        'workers CPU ms / run': (workersCpu * 1000) / runsPerRound,
        'API CPU ms / run': (own.user + own.system) / 1000 / runsPerRound,
        'machine busy %': ((machine1.busy - machine0.busy) / (machine1.total - machine0.total)) * 100,
        'db-bound runs / s': (cores * 1000) / dbMsPerRun,
        // Every process of the run's path on the machine's cores at their CPU per run.
        'machine-bound runs / s':
          (cores * 1000) / (dbMsPerRun + (workersCpu * 1000) / runsPerRound + (own.user + own.system) / 1000 / runsPerRound),
      });
    } finally {
      for (const p of procs) p.kill('SIGTERM');
      await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.on('exit', r)))));
      await api.shutdown(0);
      await store.close();
    }
  }
  for (const [what, url] of urls) {
    const store = await openStore(url, { migrate: false });
    try {
      const report = await checkRunInvariants(store.db);
      verdicts.push({
        database: what,
        runs: report.runs,
        terminal: report.terminalRuns,
        violations: report.violations.length,
        verdict: report.ok ? 'ok' : report.violations.map((v) => `${v.rule} ${v.runId}`).join('; '),
      });
    } finally {
      await store.close();
    }
  }
} finally {
  await pg.destroy();
}
printTable(
  `Five-node runs on PostgreSQL 15 (synchronous_commit=off), started by an API-only process, 64 in flight; ${availableParallelism()} cores; load ${load()}`,
  rows,
);
process.stdout.write(
  'claim: start → first node.started seen by the starter; pickup: → stamped by the worker. machine busy: every process on the machine.\n' +
    'db-bound runs / s: what the database alone could carry on all cores at its CPU per run (the ceiling with workers elsewhere).\n' +
    'machine-bound runs / s: what this machine can carry at the CPU per run of the database, the workers and the API together.\n',
);
process.stdout.write('\n');
printTable('Run invariants over every run this benchmark made', verdicts);
process.stdout.write(
  `\nwritten ${writeResults('postgres', { perStep: steps, dbos: sideBySide, perStepRounds: stepRounds, dbosRounds, scaleOut: rows, invariants: verdicts })}\n`,
);
if (verdicts.some((v) => v.violations !== 0)) process.exitCode = 1;
