/**
 * Resident memory with N runs waiting at a human gate, in a process of its own so the figure
 * is not polluted by other benchmarks. Prints one JSON row.
 */
import { IDLE_RETIRE_MS } from '@trellis/runtime/internal';
import { engineFixture } from './lib/engine-fixture.ts';

const n = Number(process.argv[2] ?? 10_000);
const gc = (globalThis as { gc?: () => void }).gc;
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
gc?.();
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
const seconds = (performance.now() - t0) / 1000;
gc?.();
await new Promise((r) => setTimeout(r, 200));
gc?.();
const rss = process.memoryUsage().rss;
// And once the server has sat idle a few seconds, as one holding waiting runs does: the sandbox
// has stopped the expression workers a burst of runs started beyond the first (IDLE_RETIRE_MS).
await new Promise((r) => setTimeout(r, IDLE_RETIRE_MS + 1000));
gc?.();
const settled = process.memoryUsage().rss;
const heapMb = Math.round(process.memoryUsage().heapUsed / 104857.6) / 10;
const waiting = f.handle.raw.prepare("select count(*) from runs where status = 'waiting'").pluck().get() as number;
process.stdout.write(
  `${JSON.stringify({
    'runs waiting': waiting,
    'runs held in memory': f.engine.hotRuns,
    'RSS MB': Math.round((rss / 1048576) * 10) / 10,
    [`RSS MB ${(IDLE_RETIRE_MS + 1000) / 1000} s later`]: Math.round((settled / 1048576) * 10) / 10,
    'RSS growth MB': Math.round(((rss - before) / 1048576) * 10) / 10,
    'JS heap in use MB': heapMb,
    'seconds to start them': Math.round(seconds * 10) / 10,
    target: 'under 120 MB',
  })}\n`,
);
await f.close();
