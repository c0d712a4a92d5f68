/**
 * Retry benchmark (docs/retry.md): retrying a failed 1,000-node chain whose last node failed.
 * Reuse is a copy, not a replay: the 999 succeeded nodes are written, already resolved, with
 * the new run, and only the last node executes. Measured: from `retryRun` to the rerun node's
 * executor being called, and how many nodes executed.
 *
 *   npx tsx bench/retry.ts [--quick]        (npm run bench runs every benchmark)
 */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Executor } from '@trellis/core';
import { TrellisError } from '@trellis/core';
import { createEngine, createExecutorResolver } from '@trellis/runtime';
import { createWorkflow, openSqlite, SqliteRunStore } from '@trellis/store';
import { chain } from './lib/engine-fixture.ts';
import { median, printTable, type Row, writeResults } from './lib/report.ts';

const quick = process.argv.includes('--quick');
const reps = quick ? 3 : 7;

async function retryChain(n: number): Promise<Row> {
  const last = `n${n - 1}`;
  let failing = true;
  let executed = 0;
  let rerunStarted: ((at: number) => void) | undefined;
  const step: Executor = {
    async execute(_input, ctx) {
      executed++;
      if (ctx.nodeId === last) {
        rerunStarted?.(performance.now());
        if (failing) throw new TrellisError('TOOL_ERROR', 'the last step fails on the first run');
      }
      return { kind: 'succeeded', output: { node: ctx.nodeId }, cost: { costUsd: 0.001 } };
    },
  };
  const handle = await openSqlite(join(mkdtempSync(join(tmpdir(), 'trellis-bench-retry-')), 'bench.db'));
  const engine = createEngine({ store: new SqliteRunStore(handle), executors: createExecutorResolver({ tools: { step } }) });
  await engine.whenReady();
  try {
    const wf = (await createWorkflow(handle.db, { name: 'chain', definition: chain(n, 'step'), owner: 'bench' })).id;
    const toStart: number[] = [];
    const toReturn: number[] = [];
    const cpuMs: number[] = [];
    const executedPerRetry: number[] = [];
    let saved = 0;
    let reused = 0;
    for (let i = 0; i < reps + 1; i++) {
      failing = true;
      const { runId } = await engine.startRun({ workflowId: wf, version: 1, input: {} });
      const failed = await engine.waitForRun(runId);
      if (failed.status !== 'failed') throw new Error(`the original run ended ${failed.status}`);
      failing = false;
      executed = 0;
      const started = new Promise<number>((resolve) => {
        rerunStarted = resolve;
      });
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const r = await engine.retryRun({ runId });
      const returned = performance.now();
      const cpu = process.cpuUsage(cpu0);
      const at = await started;
      const done = await engine.waitForRun(r.runId);
      if (done.status !== 'succeeded') throw new Error(`the retry ended ${done.status}`);
      if (i === 0) continue; // warm-up
      toStart.push(at - t0);
      toReturn.push(returned - t0);
      cpuMs.push((cpu.user + cpu.system) / 1000);
      executedPerRetry.push(executed);
      saved = done.costSavedUsd;
      reused = r.reused;
    }
    return {
      nodes: n,
      'reused (copied)': reused,
      'nodes executed': Math.max(...executedPerRetry),
      'retryRun returns ms': median(toReturn),
      'retryRun CPU ms': median(cpuMs),
      'to rerun node start ms': median(toStart),
      'target ms': 50,
      'cost saved $': Number(saved.toFixed(3)),
    };
  } finally {
    await engine.shutdown(0);
    await handle.close();
  }
}

const rows = [await retryChain(100), await retryChain(1000)];
// The machine's load at the time: wall-clock figures on a shared machine stretch with it.
const load = (await import('node:os')).loadavg()[0]!;
rows.forEach((r) => {
  r['load avg'] = Number(load.toFixed(1));
});
printTable(`Retry of a failed chain whose last node failed (median of ${reps}, durable on SQLite)`, rows);
const file = writeResults('retry', { reps, rows });
process.stdout.write(`\nwritten ${file}\n`);
