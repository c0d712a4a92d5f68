/**
 * Compile benchmark (issue 2): compile time of generated workflows with 1,000 / 10,000 / 50,000
 * nodes, about three edges per node and bindings on every node. Each row is the median of
 * several runs after warm-up; the JSONata parse cache is cleared before every run so cached
 * parses never flatter the figures. Run: `npx tsx --expose-gc bench/compile.ts` (without
 * --expose-gc it still runs, but each run may also pay for collecting the previous one).
 */
import { clearExpressionCache, compile } from '@trellis/core';
import { randomDag } from './lib/random-dag.ts';
import { machineLoad, median, printTable, type Row, writeResults } from './lib/report.ts';

interface Case {
  label: string;
  nodes: number;
  expressionEvery: number;
  runs: number;
  readFirst?: boolean;
}

const CASES: Case[] = [
  { label: 'references', nodes: 1_000, expressionEvery: 0, runs: 15 },
  { label: 'references', nodes: 10_000, expressionEvery: 0, runs: 9 },
  { label: 'references', nodes: 50_000, expressionEvery: 0, runs: 5 },
  { label: '+1% JSONata', nodes: 10_000, expressionEvery: 100, runs: 9 },
  { label: '+ $n0 on all', nodes: 10_000, expressionEvery: 0, runs: 9, readFirst: true },
];

/**
 * Wall time is what a caller waits; CPU time (user + system, all of the process's threads) is
 * what the work costs, and stays meaningful when other processes share the machine's cores.
 */
function timeCompile(def: unknown, runs: number): { ms: number; all: number[]; cpu: number } {
  const all: number[] = [];
  const cpu: number[] = [];
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let r = 0; r < runs + 2; r++) {
    clearExpressionCache();
    // Collect the previous run's garbage outside the timed region when the runtime allows it
    // (node --expose-gc): each run then pays only for its own allocations.
    gc?.();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const result = compile(def);
    const t1 = performance.now();
    const c1 = process.cpuUsage(c0);
    if (!result.ok) throw new Error(`benchmark workflow does not compile: ${JSON.stringify(result.errors.slice(0, 3))}`);
    if (r >= 2) {
      // the first two runs warm the JIT up
      all.push(t1 - t0);
      cpu.push((c1.user + c1.system) / 1000);
    }
  }
  return { ms: median(all), all, cpu: median(cpu) };
}

const gcNote = (globalThis as { gc?: unknown }).gc ? 'yes' : 'no (run with --expose-gc)';
const rows: Row[] = [];
for (const c of CASES) {
  const def = randomDag({ nodes: c.nodes, expressionEvery: c.expressionEvery, readFirst: c.readFirst ?? false });
  const { ms, all, cpu } = timeCompile(def, c.runs);
  rows.push({
    bindings: c.label,
    nodes: c.nodes,
    edges: def.edges.length,
    runs: all.length,
    'ms (median)': Number(ms.toFixed(2)),
    'ms (min)': Number(Math.min(...all).toFixed(2)),
    'cpu ms (median)': Number(cpu.toFixed(2)),
    'ms/1k nodes': Number(((ms / c.nodes) * 1000).toFixed(3)),
  });
}
const ref10k = rows.find((r) => r.nodes === 10_000 && r.bindings === 'references');
const ref50k = rows.find((r) => r.nodes === 50_000);
const ratio = ref10k && ref50k ? Number(ref50k['ms (median)']) / Number(ref10k['ms (median)']) : Number.NaN;
printTable('compile: generated DAGs, ~3 edges/node, bindings on every node', rows);
process.stdout.write(`50k / 10k time ratio: ${ratio.toFixed(2)} (target ≤ 6); 10k target ≤ 50 ms; gc between runs: ${gcNote}\n`);
process.stdout.write(`${machineLoad()}\n`);
const file = writeResults('compile', {
  rows,
  ratio50kTo10k: ratio,
  gcBetweenRuns: gcNote === 'yes',
  targets: { ms10k: 50, ratioMax: 6 },
});
process.stdout.write(`written to ${file}\n`);
