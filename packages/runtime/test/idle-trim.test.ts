/**
 * The idle memory trim (memory/idle-trim.ts), each case in a fresh process with default Node
 * flags: after a burst grows V8's young generation, a quiet process gives the memory back
 * (the young generation shrinks) — and never while the event loop is busy; V8's `gc` is never
 * visible as a global (main context, later `vm` contexts, worker threads); and it is not taken
 * while a sandbox worker is starting (that worker's context could see it).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function runScript(script: string): Record<string, unknown> {
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: import.meta.dirname,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', OTEL_EXPORTER_OTLP_ENDPOINT: '' },
    timeout: 90_000,
  });
  expect(res.stderr).toBe('');
  return JSON.parse(res.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

const helpers = `
import v8 from 'node:v8';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const newSpaceMb = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').physical_space_size / 1048576;
const workerSeesGc = () => new Promise((resolve) => {
  const w = new Worker("require('node:worker_threads').parentPort.postMessage(typeof gc)", { eval: true, execArgv: [] });
  w.once('message', (m) => { resolve(m); void w.terminate(); });
});
async function burst() {
  // Objects that survive a few young-generation collections: V8 grows the young generation.
  let keep = [];
  for (let r = 0; r < 40; r++) {
    const batch = [];
    for (let i = 0; i < 20000; i++) batch.push({ a: i, b: 'x'.repeat(20) + i, c: [i, i + 1] });
    keep.push(batch.slice(0, 5000));
    if (keep.length > 8) keep.shift();
    await sleep(1);
  }
  keep = null;
}
`;

describe('idle memory trim', () => {
  it('shrinks the young generation once the process is quiet after a burst, never while it is busy', () => {
    const out = runScript(`${helpers}
const { idleTrimStats } = await import('@trellis/runtime/internal');
const { createEngine } = await import('@trellis/runtime');
const { openSqlite, SqliteRunStore } = await import('@trellis/store');
const out = { startGlobal: typeof globalThis.gc };
const handle = await openSqlite(':memory:');
const engine = createEngine({ store: new SqliteRunStore(handle) });
await engine.whenReady();
out.running = idleTrimStats().running;
await burst();
out.grownMb = newSpaceMb();
// Busy: the event loop works ~40% of the time for 7 s: no trim.
const busyUntil = Date.now() + 7000;
while (Date.now() < busyUntil) {
  const end = Date.now() + 40;
  while (Date.now() < end);
  await sleep(60);
}
out.trimsWhileBusy = idleTrimStats().trims;
// Quiet: trimmed (Node 20: a full collection, then a young-generation one 5 s later).
const young = Number(process.versions.v8.split('.')[0]) < 12;
const deadline = Date.now() + 30000;
// A young-generation step that shrank nothing (V8's allocation-rate estimate on a loaded machine) is taken again 5 s later.
while (Date.now() < deadline && (idleTrimStats().trims === 0 || (young && (idleTrimStats().youngTrims === 0 || newSpaceMb() >= 4)))) await sleep(200);
const s = idleTrimStats();
out.trims = s.trims;
out.youngTrims = s.youngTrims;
out.trimmedMb = newSpaceMb();
out.global = typeof globalThis.gc;
out.vmContext = vm.runInNewContext('typeof gc');
out.worker = await workerSeesGc();
await engine.shutdown(0);
out.runningAfterShutdown = idleTrimStats().running;
await handle.close();
console.log(JSON.stringify(out));
`);
    expect(out.startGlobal).toBe('undefined');
    expect(out.running).toBe(true);
    expect(out.grownMb).toBeGreaterThan(8);
    expect(out.trimsWhileBusy).toBe(0);
    expect(out.trims).toBe(1);
    expect(out.trimmedMb).toBeLessThan(4);
    expect(out.trimmedMb).toBeLessThan((out.grownMb as number) / 4);
    // gc never became a global anywhere.
    expect(out).toMatchObject({ global: 'undefined', vmContext: 'undefined', worker: 'undefined' });
    expect(out.runningAfterShutdown).toBe(false);
  }, 60_000);

  it('does not take V8 gc while a sandbox worker is starting, and exposes it nowhere after', () => {
    const out = runScript(`${helpers}
const { trimNow, idleTrimStats } = await import('@trellis/runtime/internal');
const { ExpressionPool } = await import('@trellis/runtime');
const pool = new ExpressionPool();
const pending = pool.evaluate([{ source: '$a + 1', scope: { a: 1 } }]);
const out = { whileStarting: trimNow() };
out.value = await pending;
out.afterReady = trimNow();
out.trims = idleTrimStats().trims;
out.global = typeof globalThis.gc;
out.vmContext = vm.runInNewContext('typeof gc');
out.worker = await workerSeesGc();
// The sandbox still evaluates, and a worker it starts now has no gc either.
const fresh = new ExpressionPool();
out.freshValue = await fresh.evaluate([{ source: '$sum([1, 2, 3])', scope: {} }]);
await Promise.all([pool.close(), fresh.close()]);
console.log(JSON.stringify(out));
`);
    expect(out).toEqual({
      whileStarting: false,
      value: [2],
      afterReady: true,
      trims: 1,
      global: 'undefined',
      vmContext: 'undefined',
      worker: 'undefined',
      freshValue: [6],
    });
  }, 60_000);
});
