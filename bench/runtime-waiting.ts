/**
 * Resident memory with N runs waiting at a human gate, in a process of its own so the figure
 * is not polluted by other benchmarks, with default Node flags (no forced collection: what a
 * server does by itself). Prints one JSON row: the resident set right after the last run
 * parked, once the idle trim has run (memory/idle-trim.ts; on Node 20 in two steps), and once
 * the expression sandbox has stopped its last worker (LAST_WORKER_RETIRE_MS).
 */
import { IDLE_TRIM_MS, idleTrimStats, LAST_WORKER_RETIRE_MS } from '@trellis/runtime/internal';
import { engineFixture } from './lib/engine-fixture.ts';

const n = Number(process.argv[2] ?? 10_000);
const f = await engineFixture();
const wf = await f.save({
  name: 'gate',
  nodes: [
    { id: 'prep', type: 'transform', expression: "{ 'ticket': $context.i }" },
    { id: 'approve', type: 'human_gate', prompt: 'Approve ticket {{ $prep.ticket }}?' },
    { id: 'after', type: 'transform', expression: '$approve.approved' },
  ],
  edges: [
    { from: 'prep', to: 'approve' },
    { from: 'approve', to: 'after' },
  ],
});
const before = process.memoryUsage().rss;
const t0 = performance.now();
const batch = 500;
for (let i = 0; i < n; i += batch) {
  const ids = await Promise.all(
    Array.from({ length: Math.min(batch, n - i) }, (_, k) =>
      f.engine.startRun({ workflowId: wf, version: 1, input: { i: i + k } }),
    ),
  );
  await Promise.all(ids.map((r) => f.engine.waitForRun(r.runId, { orWaiting: true })));
}
const parked = performance.now();
const seconds = (parked - t0) / 1000;
const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
const rssAfter = async (ms: number) => {
  await new Promise((r) => setTimeout(r, Math.max(0, parked + ms - performance.now())));
  return mb(process.memoryUsage().rss);
};
const atOnce = await rssAfter(200);
// Quiet for IDLE_TRIM_MS, then the trim (Node 20: its second step 5 s later).
const trimmedAfter = 2 * IDLE_TRIM_MS + 10_000;
const trimmed = await rssAfter(trimmedAfter);
// The sandbox's last worker stops; on Node 24 its pages go back to the system 8 s later.
const settledAfter = LAST_WORKER_RETIRE_MS + 10_000;
const settled = await rssAfter(settledAfter);
const heapMb = mb(process.memoryUsage().heapUsed);
const waiting = f.handle.raw.prepare("select count(*) from runs where status = 'waiting'").pluck().get() as number;
const trim = idleTrimStats();
process.stdout.write(
  `${JSON.stringify({
    node: process.version,
    'runs waiting': waiting,
    'runs held in memory': f.engine.hotRuns,
    'RSS MB at once': atOnce,
    [`RSS MB ${trimmedAfter / 1000} s later`]: trimmed,
    [`RSS MB ${settledAfter / 1000} s later`]: settled,
    'RSS before MB': mb(before),
    'JS heap in use MB': heapMb,
    'idle trims': trim.youngTrims ? `${trim.trims} + ${trim.youngTrims} young` : trim.trims,
    'trim pause ms': Math.round(trim.pauseMs),
    'seconds to start them': Math.round(seconds * 10) / 10,
    target: 'under 120 MB',
  })}\n`,
);
await f.close();
