/**
 * Commit order on PostgreSQL: a run is reported finished only once every node row and event of
 * it has committed, and no batch is ever dropped. Long built-in chains (many batches per run,
 * each bounded), a 1→1,000→1 fan (one huge batch, then a join) and a chain of tool nodes (one
 * commit per step), run one after another and 20 at once, and with a worker SIGKILLed mid-run.
 * Each run is checked against the run invariants the moment it is reported finished, and the
 * whole database at the end.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Executor, RunRecord, WorkflowDefinitionInput } from '@trellis/core';
import { checkRunInvariants, formatInvariantReport, type Store } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../store/test/helpers/postgres.ts';
import type { RunnerEngine } from '../src/index.ts';
import { fiveNodeGraph, type PgNode, pgNode, saveWorkflow } from './pg-harness.ts';
import { builtinChain, builtinFan, toolChain } from './shapes.ts';

let pg: TestPostgres;
beforeAll(async () => {
  pg = await startPostgres();
}, 120_000);
afterAll(async () => {
  await pg?.destroy();
});

/**
 * 10 runs one after another and 20 at once for every shape, and 10 of each shape on the killed
 * worker: about 140 s on a 2-core machine, alone. TRELLIS_PG_REDUCED_COUNTS=1 runs the 5,000-node
 * chain 3 + 6 times and the kill test 3 runs of each shape (about a minute), for a quicker local run.
 */
const FULL = process.env.TRELLIS_PG_REDUCED_COUNTS !== '1';
// A machine starved of CPU (CI, or a shared 2-core box at load 30) must not turn a slow `$n0 + 1`
// into an expression timeout (the sandbox's limit is wall-clock): these tests are about commits.
process.env.TRELLIS_EXPRESSION_TIMEOUT_MS ??= '30000';

const noop: Executor = { execute: async () => ({ kind: 'succeeded', output: null }) };
const tools = { noop };

interface Shape {
  name: string;
  def: WorkflowDefinitionInput;
  output: unknown;
  /** Runs one after another, then at once (the 10 and 20; fewer for the 5,000 chain unless FULL). */
  sequential?: number;
  atOnce?: number;
}
const SHAPES: Shape[] = [
  { name: '1,000-node built-in chain', def: builtinChain(1000), output: { n999: 1000 } },
  {
    name: '5,000-node built-in chain',
    def: builtinChain(5000),
    output: { n4999: 5000 },
    ...(FULL ? {} : { sequential: 3, atOnce: 6 }),
  },
  {
    name: '1→1,000→1 built-in fan',
    def: builtinFan(1000),
    output: { end: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`m${i}`, i])) },
  },
  { name: '1,000-node tool chain', def: toolChain(1000), output: { n999: null } },
];

async function expectInvariants(store: Store, runIds?: readonly string[]): Promise<void> {
  const report = await checkRunInvariants(store.db, runIds ? { runIds } : {});
  expect(report.ok, formatInvariantReport(report)).toBe(true);
}

/** Waits for the run as a client would, then checks it at once: finished means committed. */
async function finishedAndCommitted(engine: RunnerEngine, store: Store, runId: string, shape: Shape): Promise<RunRecord> {
  const rec = await engine.waitForRun(runId);
  await expectInvariants(store, [runId]);
  expect(rec.status, `${shape.name} run ${runId}: ${JSON.stringify(rec.error)}`).toBe('succeeded');
  expect(rec.output).toEqual(shape.output);
  return rec;
}

describe('commit order on PostgreSQL: finished means committed, nothing dropped', () => {
  for (const shape of SHAPES) {
    it(`${shape.name}: ${shape.sequential ?? 10} runs one after another on an embedded worker, then ${shape.atOnce ?? 20} at once on two workers`, async () => {
      const url = await pg.createDatabase('order');
      const nodes: PgNode[] = [];
      try {
        // Leases long enough that a worker slowed down by a busy machine keeps its runs: these
        // tests are about commit order (lease loss has its own tests in multiworker).
        const embedded = await pgNode(url, { tools, leaseMs: 10_000 });
        nodes.push(embedded);
        const wf = await saveWorkflow(embedded.store, shape.def);
        for (let i = 0; i < (shape.sequential ?? 10); i++) {
          const { runId } = await embedded.engine.startRun({ workflowId: wf, version: 1, input: {} });
          await finishedAndCommitted(embedded.engine, embedded.store, runId, shape);
        }
        // 20 at once, started by an API-only server and executed by two workers.
        const api = await pgNode(url, { execute: false });
        nodes.push(api, await pgNode(url, { tools, leaseMs: 10_000 }));
        const started = await Promise.all(
          Array.from({ length: shape.atOnce ?? 20 }, () => api.engine.startRun({ workflowId: wf, version: 1, input: {} })),
        );
        await Promise.all(started.map((s) => finishedAndCommitted(api.engine, api.store, s.runId, shape)));
        await expectInvariants(api.store);
      } finally {
        for (const n of nodes.reverse()) await n.close();
      }
    }, 600_000);
  }

  it('a queued run of built-in nodes, claimed by a worker, commits once: its nodes and its output are not each a round trip', async () => {
    const url = await pg.createDatabase('once');
    const api = await pgNode(url, { execute: false });
    // A hold long enough for any machine: the count is then exact.
    const worker = await pgNode(url, { tools, leaseMs: 10_000, commitHoldMs: 60_000 });
    try {
      const def: WorkflowDefinitionInput = {
        ...fiveNodeGraph((id) => ({
          type: 'transform',
          expression: id === 'a' ? '$context.i' : `$a + ${'abcd'.indexOf(id)}`,
        })),
        output: { sum: '{{ $b + $c + $d }}' },
      };
      const wf = await saveWorkflow(api.store, def);
      const before = worker.engine.commitStats.commits;
      for (let i = 0; i < 5; i++) {
        const { runId } = await api.engine.startRun({ workflowId: wf, version: 1, input: { i } });
        const rec = await api.engine.waitForRun(runId);
        expect(rec.status).toBe('succeeded');
        expect(rec.output).toEqual({ sum: 3 * i + 6 });
      }
      expect(worker.engine.commitStats.commits - before).toBe(5);
      await expectInvariants(api.store);
    } finally {
      await worker.close();
      await api.close();
    }
  }, 120_000);

  it('a worker SIGKILLed mid-run: the survivor finishes every run of every shape, all invariants hold', async () => {
    const url = await pg.createDatabase('kill');
    const api = await pgNode(url, { execute: false });
    let child: ChildProcess | undefined;
    let survivor: PgNode | undefined;
    try {
      const wfs = await Promise.all(SHAPES.map((s) => saveWorkflow(api.store, s.def)));
      child = spawn(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'pg-plain-worker.ts'), url, 'doomed'],
        // A starved machine must not turn a slow `1` into an expression timeout.
        { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TRELLIS_EXPRESSION_TIMEOUT_MS: '30000' } },
      );
      await new Promise<void>((resolve, reject) => {
        child!.stdout!.on('data', (d: Buffer) => {
          if (String(d).includes('ready')) resolve();
        });
        child!.on('exit', (code) => reject(new Error(`worker exited early (${code})`)));
      });
      const runs: { shape: Shape; runId: string }[] = [];
      for (const [i, shape] of SHAPES.entries())
        for (let k = 0; k < (FULL ? 10 : 3); k++)
          runs.push({ shape, runId: (await api.engine.startRun({ workflowId: wfs[i]!, version: 1, input: {} })).runId });
      // Kill it once it is well into the work: some nodes of the long runs committed, not all.
      const probe = runs.find((r) => r.shape.def.nodes!.length === 5000)!.runId;
      for (let i = 0; i < 600; i++) {
        const rec = await api.engine.getRun(probe);
        const done = Object.values(rec!.nodes).filter((n) => n.status === 'succeeded').length;
        if (done >= 500 || rec!.status === 'succeeded') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
      // Whatever the killed worker committed is consistent on its own (batches are whole).
      await expectInvariants(api.store);
      survivor = await pgNode(url, { tools, leaseMs: 3000 });
      for (const { shape, runId } of runs) await finishedAndCommitted(api.engine, api.store, runId, shape);
      const probeRec = await api.engine.getRun(probe);
      // The kill landed mid-run: some attempts were taken over (LEASE_EXPIRED) or never started.
      expect(probeRec!.status).toBe('succeeded');
      await expectInvariants(api.store);
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await survivor?.close();
      await api.close();
    }
  }, 600_000);
});
