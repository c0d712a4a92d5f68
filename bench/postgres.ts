/**
 * Scale-out benchmark (issue 7) on a throwaway PostgreSQL 15: five-node runs per second with 1,
 * 2 and 4 `trellis worker` processes, the latency from starting a run (on an API-only process)
 * to its first node.started (claim latency: notification + claim + commit), and the database's
 * CPU share during the runs.
 *
 *   npx tsx bench/postgres.ts [--quick]
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine, type RunnerEngine } from '@trellis/runtime';
import { createWorkflow, openStore } from '@trellis/store';
import { startPostgres } from '../packages/store/test/helpers/postgres.ts';
import { fiveNodes } from './lib/engine-fixture.ts';
import { median, printTable, type Row, writeResults } from './lib/report.ts';

const quick = process.argv.includes('--quick');
const runsPerRound = quick ? 150 : 600;
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

function firstStarted(engine: RunnerEngine, runId: string, t0: number): Promise<{ claimMs: number; done: Promise<void> }> {
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
          resolve({ claimMs, done });
        }
      },
      onEnd: () => {
        sub.close();
        finish();
      },
    });
  });
}

const pg = await startPostgres({ settings: { synchronous_commit: 'off' } });
const rows: Row[] = [];
try {
  for (const workers of [1, 2, 4]) {
    const url = await pg.createDatabase(`bench${workers}`);
    const store = await openStore(url);
    const api = createEngine({ store: store.runs, leasing: { store: store.leases!, execute: false } });
    await api.whenReady();
    const { id } = await createWorkflow(store.db, { name: 'five', definition: five, owner: 'bench' });
    const procs = await Promise.all(Array.from({ length: workers }, () => startWorker(url)));
    try {
      // Warm-up, then the measured round.
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          api.startRun({ workflowId: id, version: 1, input: { i } }).then((r) => api.waitForRun(r.runId)),
        ),
      );
      const cpu0 = postgresCpuSeconds(pg.dir);
      const t0 = performance.now();
      const claims: number[] = [];
      const inFlight = 64;
      let next = 0;
      const lane = async () => {
        while (next < runsPerRound) {
          const i = next++;
          const s = performance.now();
          const { runId } = await api.startRun({ workflowId: id, version: 1, input: { i } });
          const { claimMs, done } = await firstStarted(api, runId, s);
          claims.push(claimMs);
          await done;
        }
      };
      await Promise.all(Array.from({ length: inFlight }, lane));
      const secs = (performance.now() - t0) / 1000;
      const cpu = postgresCpuSeconds(pg.dir) - cpu0;
      claims.sort((a, b) => a - b);
      rows.push({
        workers,
        runs: runsPerRound,
        'runs / s': runsPerRound / secs,
        'claim p50 ms': median(claims),
        'claim p99 ms': claims[Math.floor(claims.length * 0.99)] ?? 0,
        'db CPU % of a core': (cpu / secs) * 100,
        'db CPU % of machine': (cpu / secs / 2) * 100,
      });
    } finally {
      for (const p of procs) p.kill('SIGTERM');
      await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.on('exit', r)))));
      await api.shutdown(0);
      await store.close();
    }
  }
} finally {
  await pg.destroy();
}
printTable('Five-node runs on PostgreSQL 15 (synchronous_commit=off), started by an API-only process, 64 in flight', rows);
process.stdout.write(`\nwritten ${writeResults('postgres', rows)}\n`);
