/**
 * Runtime benchmarks (issue 3), durable on SQLite (WAL, synchronous=NORMAL):
 * engine overhead per node (chains and a fan-out), makespan ÷ critical path on a random DAG,
 * five-node runs per second, and resident memory with 10,000 runs waiting at a gate.
 *
 *   npx tsx bench/runtime.ts            (npm run bench runs every benchmark)
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { compile, type WorkflowDefinitionInput } from '@trellis/core';
import type { RunnerEngine } from '@trellis/runtime';
import { compileBench, userEnv } from './lib/compiled.ts';
import { chain, engineFixture, fanOut, fiveNodes } from './lib/engine-fixture.ts';
import { median, printTable, type Row, writeResults } from './lib/report.ts';

const quick = process.argv.includes('--quick');
const reps = quick ? 2 : 5;

/** Resolves with the run's terminal event type, as soon as it is committed and announced. */
function finished(engine: RunnerEngine, runId: string): Promise<string> {
  return new Promise((resolve) => {
    let last = '';
    const sub = engine.subscribe(runId, {
      after: 0,
      onEvent: (e) => {
        last = e.type;
      },
      onEnd: () => {
        sub.close();
        resolve(last.replace('run.', ''));
      },
    });
  });
}

async function timeRun(def: WorkflowDefinitionInput, input: unknown = {}): Promise<{ ms: number; status: string }> {
  const f = await engineFixture();
  try {
    const wf = await f.save(def);
    // Warm the prepared-workflow cache and the JIT on first runs, then measure from startRun to
    // the committed terminal event (reading the whole run record back is not engine overhead).
    for (let i = 0; i < 2; i++) await finished(f.engine, (await f.engine.startRun({ workflowId: wf, version: 1, input })).runId);
    const times: number[] = [];
    let status = '';
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      const { runId } = await f.engine.startRun({ workflowId: wf, version: 1, input });
      status = await finished(f.engine, runId);
      times.push(performance.now() - t0);
    }
    return { ms: median(times), status };
  } finally {
    await f.close();
  }
}

async function overhead(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const n of [100, 1000, 5000]) {
    const r = await timeRun(chain(n));
    rows.push({
      graph: `chain of ${n} no-op tool nodes`,
      nodes: n,
      'run ms': r.ms,
      'µs / node': (r.ms * 1000) / n,
      status: r.status,
    });
  }
  for (const n of [1000, 5000]) {
    const def = chain(n);
    for (const node of def.nodes) Object.assign(node, { type: 'parallel', tool: undefined });
    const r = await timeRun(def);
    rows.push({
      graph: `chain of ${n} no-op built-in nodes`,
      nodes: n,
      'run ms': r.ms,
      'µs / node': (r.ms * 1000) / n,
      status: r.status,
    });
  }
  for (const w of [100, 1000]) {
    const r = await timeRun(fanOut(w));
    rows.push({
      graph: `fan-out 1→${w}→1`,
      nodes: w + 2,
      'run ms': r.ms,
      'µs / node': (r.ms * 1000) / (w + 2),
      status: r.status,
    });
  }
  return rows;
}

function randomSleepDag(n: number, seed = 7): WorkflowDefinitionInput {
  let s = seed;
  const rnd = () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
  const nodes: NonNullable<WorkflowDefinitionInput['nodes']> = [];
  const edges: { from: string; to: string }[] = [];
  for (let i = 0; i < n; i++) {
    const ms = 5 + Math.floor(rnd() * 46);
    nodes.push({ id: `n${i}`, type: 'tool_call', tool: 'sleep', input: { ms }, estimatedMs: ms });
    const preds = new Set<number>();
    if (i > 0) {
      const k = 1 + Math.floor(rnd() * 3);
      while (preds.size < Math.min(k, i)) preds.add(Math.max(0, i - 1 - Math.floor(rnd() * 30)));
    }
    for (const p of preds) edges.push({ from: `n${p}`, to: `n${i}` });
  }
  return { name: `random-${n}`, nodes, edges };
}

async function makespan(): Promise<Row[]> {
  const def = randomSleepDag(200);
  const c = compile(def);
  if (!c.ok) throw new Error(`bench DAG does not compile: ${c.errors[0]?.message}`);
  const critical = c.compiled.criticalPath.estimatedMs;
  const f = await engineFixture();
  try {
    const wf = await f.save(def);
    const spans: number[] = [];
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      const t0 = performance.now();
      const rec = await f.engine.waitForRun((await f.engine.startRun({ workflowId: wf, version: 1, input: {} })).runId);
      if (rec.status !== 'succeeded') throw new Error(`run ${rec.status}`);
      spans.push(performance.now() - t0);
    }
    const m = median(spans);
    return [
      {
        graph: 'random DAG, 200 nodes sleeping 5–50 ms',
        'critical path ms': critical,
        'makespan ms': m,
        ratio: m / critical,
        'over ms': m - critical,
        'allowed ms': critical * 0.02 + 10,
        verdict: m <= critical * 1.02 + 10 ? 'within target' : 'MISSES target',
      },
    ];
  } finally {
    await f.close();
  }
}

async function throughput(): Promise<Row[]> {
  const def = fiveNodes(() => ({ type: 'tool_call', tool: 'noop' }));
  const f = await engineFixture();
  try {
    const wf = await f.save(def);
    const total = quick ? 1000 : 5000;
    const inFlight = 200;
    const t0 = performance.now();
    let started = 0;
    let failed = 0;
    const worker = async () => {
      while (started < total) {
        started++;
        const { runId } = await f.engine.startRun({ workflowId: wf, version: 1, input: {} });
        const rec = await f.engine.waitForRun(runId);
        if (rec.status !== 'succeeded') failed++;
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    const s = (performance.now() - t0) / 1000;
    return [
      {
        workload: `${total} five-node runs, ${inFlight} in flight`,
        seconds: s,
        'runs / s': total / s,
        'nodes / s': (total * 5) / s,
        failed,
      },
    ];
  } finally {
    await f.close();
  }
}

function waitingMemory(): Row[] {
  // Compiled JavaScript against the packages' dist/, no TypeScript loader and no Node flag: the
  // process as an installed server runs it (see docs/runtime.md, Memory).
  const script = compileBench(join(import.meta.dirname, 'runtime-waiting.ts'));
  const res = spawnSync(process.execPath, [script, String(quick ? 2000 : 10_000)], { encoding: 'utf8', env: userEnv() });
  if (res.status !== 0) throw new Error(`waiting-memory bench failed: ${res.stderr}`);
  return [JSON.parse(res.stdout.trim().split('\n').pop()!) as Row];
}

const results: Record<string, Row[]> = {};
results.overhead = await overhead();
printTable('Engine overhead per node, durable on SQLite (no-op executor)', results.overhead);
results.makespan = await makespan();
printTable('\nMakespan vs critical path', results.makespan);
results.throughput = await throughput();
printTable('\nThroughput', results.throughput);
results.waiting = waitingMemory();
printTable('\nRuns waiting at a gate', results.waiting);
const file = writeResults('runtime', results);
process.stdout.write(`\nwritten ${file}\n`);
