/**
 * Store benchmark, SQLite vs PostgreSQL, at the storage layer only (no executors, no
 * scheduler): the write pattern of a five-node run (create, then per node a start batch and a
 * finish batch, then the run's end: 11 commits), sequentially and with concurrent runs, and the
 * latency of claiming one run. Run: `npx tsx packages/store/test/dialects/bench.ts`.
 *
 * PostgreSQL runs with synchronous_commit=off, the durability SQLite's WAL + synchronous=NORMAL
 * gives (a process crash loses nothing; an OS crash may lose the last commits).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunEvent } from '@trellis/core';
import { createWorkflow, openStore, type RunWriteOp, type Store } from '../../src/index.ts';
import { startPostgres } from '../helpers/postgres.ts';

const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];
const ev = (runId: string, seq: number, type: string, nodeId: string | null): RunWriteOp => {
  const event = { runId, seq, type, at: new Date().toISOString(), data: { ok: true } } as RunEvent;
  if (nodeId !== null) event.nodeId = nodeId;
  return { op: 'run.event', event };
};

async function fiveNodeRun(store: Store, wf: string, runId: string): Promise<void> {
  await store.runs.createRun({
    id: runId,
    workflowId: wf,
    version: 1,
    input: {},
    createdBy: 'bench',
    createdAt: Date.now(),
    deadlineAt: null,
    claim: null,
    nodeIds: NODES,
    events: [{ seq: 1, runId, type: 'run.queued', at: new Date().toISOString(), data: { workflowId: wf, version: 1 } }],
  });
  let seq = 1;
  for (const n of NODES) {
    await store.runs.commit([
      ...(seq === 1 ? [{ op: 'run.patch', runId, patch: { status: 'running', startedAt: Date.now() } } as const] : []),
      { op: 'node.patch', runId, nodeId: n, patch: { status: 'running', attempt: 1, input: { x: 1 }, startedAt: Date.now() } },
      { op: 'attempt.start', runId, nodeId: n, attempt: 1, at: Date.now(), workerId: 'w' },
      ev(runId, ++seq, 'node.started', n),
    ]);
    await store.runs.commit([
      { op: 'attempt.end', runId, nodeId: n, attempt: 1, end: { status: 'succeeded', at: Date.now() } },
      { op: 'node.patch', runId, nodeId: n, patch: { status: 'succeeded', output: { y: 2 }, finishedAt: Date.now() } },
      ev(runId, ++seq, 'node.succeeded', n),
    ]);
  }
  await store.runs.commit([
    { op: 'run.patch', runId, patch: { status: 'succeeded', output: {}, finishedAt: Date.now() } },
    ev(runId, ++seq, 'run.succeeded', null),
  ]);
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** CPU seconds used so far by the PostgreSQL server's processes (postmaster and backends). */
function serverCpuSeconds(dataDir: string | undefined): number {
  if (!dataDir) return 0;
  const postmaster = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0] ?? '';
  let pids = [postmaster];
  try {
    pids = pids.concat(execFileSync('pgrep', ['-P', postmaster], { encoding: 'utf8' }).trim().split('\n'));
  } catch {
    // no children listed
  }
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      ticks += Number(fields[11]) + Number(fields[12]); // utime + stime
    } catch {
      // the backend ended
    }
  }
  return ticks / 100; // USER_HZ
}

async function bench(name: string, store: Store, dataDir?: string): Promise<void> {
  const wf = (await createWorkflow(store.db, { name: 'bench', definition: {}, owner: 'bench' })).id;
  let k = 0;
  for (let i = 0; i < 50; i++) await fiveNodeRun(store, wf, `warm${k++}`);
  for (const concurrency of [1, 8]) {
    const total = 800;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const db0 = serverCpuSeconds(dataDir);
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          next++;
          await fiveNodeRun(store, wf, `r${k++}`);
        }
      }),
    );
    const s = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const client = (cpu.user + cpu.system) / 1e6;
    const server = serverCpuSeconds(dataDir) - db0;
    const share = dataDir
      ? `, database CPU ${((100 * server) / s).toFixed(0)}% of a core (client ${((100 * client) / s).toFixed(0)}%)`
      : '';
    console.log(
      `${name.padEnd(9)} five-node runs (11 commits each), ${concurrency} at a time: ${(total / s).toFixed(0)} runs/s, ${((total * 11) / s).toFixed(0)} commits/s${share}`,
    );
  }
  if (store.leases) {
    const leases = store.leases;
    for (let i = 0; i < 1000; i++) await fiveNodeRun(store, wf, `q${k++}`); // finished history
    await store.db.updateTable('runs').set({ status: 'queued' }).where('id', 'like', 'q%').execute();
    const lat: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const t = performance.now();
      await leases.claimRuns('w1', 30_000, 1);
      lat.push(performance.now() - t);
    }
    lat.sort((a, b) => a - b);
    console.log(
      `${name.padEnd(9)} claimRuns(limit 1), 1000 queued runs: p50 ${pct(lat, 50).toFixed(2)} ms, p99 ${pct(lat, 99).toFixed(2)} ms`,
    );
  }
}

const sqlite = await openStore(join(mkdtempSync(join(tmpdir(), 'trellis-bench-')), 'bench.db'));
await bench('sqlite', sqlite);
await sqlite.close();

const pgs = await startPostgres({ settings: { fsync: 'on', full_page_writes: 'on', synchronous_commit: 'off' } });
try {
  const pgStore = await openStore(await pgs.createDatabase('bench'));
  await bench('postgres', pgStore, join(pgs.dir, 'data'));
  await pgStore.close();
} finally {
  await pgs.destroy();
}
