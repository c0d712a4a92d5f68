/**
 * Expression sandbox benchmarks:
 *  1. /healthz latency of a real `trellis serve` process while 50 runaway expressions run (an
 *     endless loop, `$pad` of 1e8, catastrophic regex backtracking, a huge `$map`) with ordinary
 *     runs going on: p50 / p99 / max, whether the process stayed up, whether the ordinary runs
 *     finished. Target: p99 ≤ 50 ms, no exit, every ordinary run succeeds.
 *  2. Engine overhead per node on chains of 1,000 built-in nodes, in process on SQLite: no-op
 *     nodes (the engine's bar, ≤ 60 µs), transforms answered on the main thread (`$prev.v`), and
 *     transforms evaluated in the sandbox's workers (one round trip per node).
 *
 *   npx tsx bench/sandbox.ts [--quick]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowDefinitionInput } from '@trellis/core';
import { sharedExpressionPool } from '@trellis/runtime';
import { engineFixture } from './lib/engine-fixture.ts';
import { machineLoad, median, printTable, type Row, writeResults } from './lib/report.ts';

const quick = process.argv.includes('--quick');
const TOKEN = 'bench-admin-token-0123456789abcdef';
/** The command from its sources (as the tests run it), so the bench needs no build. */
const TRELLIS = [
  '--conditions=@trellis/source',
  '--import',
  'tsx',
  join(import.meta.dirname, '..', 'packages', 'cli', 'src', 'bin.ts'),
];

const RUNAWAY: Record<string, string> = {
  loop: '$reduce([1..1000000], function($a, $v) { $a + $v % 7 })',
  pad: "$length($pad('x', 100000000))",
  regex: "$contains('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', /^(a+)+$/)",
  map: "$count($map([1..1000000], function($v) { { 'v': $v, 's': $string($v) & '-' & $string($v * 2) } }))",
};

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

async function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const db = join(mkdtempSync(join(tmpdir(), 'trellis-bench-sandbox-')), 'trellis.db');
  const child = spawn(process.execPath, [...TRELLIS, 'serve', '--port', '0', '--db', db], {
    env: { ...process.env, TRELLIS_ADMIN_TOKEN: TOKEN, TRELLIS_LOG_LEVEL: 'warn', TRELLIS_RATE_LIMIT: '100000000' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d) => {
      out += String(d);
      const m = /serving at (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
  return { child, url };
}

// biome-ignore lint/suspicious/noExplicitAny: reads arbitrary response JSON
async function api(url: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path} → ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

async function runStatus(url: string, id: string): Promise<{ status: string; codes: string[] }> {
  const rec = await api(url, 'GET', `/workflow_runs/${id}`);
  const codes = Object.values(rec.nodes as Record<string, { error: { code: string } | null }>)
    .map((n) => n.error?.code)
    .filter((c): c is string => typeof c === 'string');
  return { status: rec.status, codes };
}

/** Samples GET /healthz every `everyMs` until `stop()`; returns the latencies in ms. */
function sampleHealth(url: string, everyMs: number): { stop(): Promise<number[]> } {
  const lat: number[] = [];
  let on = true;
  const loop = (async () => {
    while (on) {
      const t0 = performance.now();
      const res = await fetch(`${url}/healthz`);
      await res.arrayBuffer();
      lat.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      on = false;
      await loop;
      return lat;
    },
  };
}

async function healthUnderRunaways(): Promise<Row[]> {
  const { child, url } = await startServer();
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  try {
    const kinds = Object.keys(RUNAWAY);
    const perRun = quick ? 4 : 10;
    const runs = quick ? 2 : 5;
    // Each runaway run: `perRun` parallel transform nodes cycling through the four kinds.
    const hostile = await api(url, 'POST', '/workflows', {
      name: 'runaway',
      nodes: [
        { id: 'start', type: 'parallel' },
        ...Array.from({ length: perRun }, (_, i) => ({
          id: `r${i}`,
          type: 'transform',
          expression: RUNAWAY[kinds[i % kinds.length]!]!,
          onError: 'continue',
        })),
      ],
      edges: Array.from({ length: perRun }, (_, i) => ({ from: 'start', to: `r${i}` })),
    });
    const ordinary = await api(url, 'POST', '/workflows', {
      name: 'ordinary',
      nodes: [
        { id: 'a', type: 'transform', expression: "{ 'n': $count($context.items), 'first': $context.items[0] }" },
        { id: 'b', type: 'condition', expression: '$a.n > 2' },
        { id: 'c', type: 'parallel', input: { label: 'items: {{ $a.n }}', first: '$a.first' } },
      ],
      edges: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c', condition: '$b.value = true' },
      ],
    });
    const base = sampleHealth(url, 20);
    await new Promise((r) => setTimeout(r, quick ? 1000 : 2000));
    const idle = await base.stop();

    const health = sampleHealth(url, 20);
    const t0 = performance.now();
    const hostileIds: string[] = [];
    for (let i = 0; i < runs; i++)
      hostileIds.push((await api(url, 'POST', `/workflows/${hostile.id}/run`, { input: {} })).id as string);
    const ordinaryIds: string[] = [];
    // Ordinary runs keep arriving while the runaway ones are being stopped.
    const ordinaryCount = quick ? 10 : 30;
    for (let i = 0; i < ordinaryCount; i++) {
      ordinaryIds.push(
        (await api(url, 'POST', `/workflows/${ordinary.id}/run`, { input: { items: [1, 2, 3, i] } })).id as string,
      );
      await new Promise((r) => setTimeout(r, 100));
    }
    const finished = new Map<string, { status: string; codes: string[] }>();
    const deadline = Date.now() + 300_000;
    while (finished.size < hostileIds.length + ordinaryIds.length && Date.now() < deadline && !exited) {
      for (const id of [...hostileIds, ...ordinaryIds]) {
        if (finished.has(id)) continue;
        const s = await runStatus(url, id);
        if (['succeeded', 'failed', 'cancelled'].includes(s.status)) finished.set(id, s);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    const stormS = (performance.now() - t0) / 1000;
    const lat = await health.stop();
    const hostileCodes = hostileIds.flatMap((id) => finished.get(id)?.codes ?? []);
    const ordinaryOk = ordinaryIds.filter((id) => finished.get(id)?.status === 'succeeded').length;
    return [
      {
        phase: 'idle (no runs)',
        'healthz p50 ms': percentile(idle, 50),
        'healthz p99 ms': percentile(idle, 99),
        'healthz max ms': Math.max(...idle),
        samples: idle.length,
        'runaway nodes': 0,
        'stopped (EXPRESSION_ERROR)': 0,
        'ordinary runs ok': '-',
        seconds: '-',
        'process up': exited ? 'NO' : 'yes',
      },
      {
        phase: `${runs * perRun} runaway + ${ordinaryCount} ordinary runs`,
        'healthz p50 ms': percentile(lat, 50),
        'healthz p99 ms': percentile(lat, 99),
        'healthz max ms': Math.max(...lat),
        samples: lat.length,
        'runaway nodes': runs * perRun,
        'stopped (EXPRESSION_ERROR)': hostileCodes.filter((c) => c === 'EXPRESSION_ERROR').length,
        'ordinary runs ok': `${ordinaryOk}/${ordinaryCount}`,
        seconds: stormS,
        'process up': exited ? 'NO' : 'yes',
      },
    ];
  } finally {
    child.kill('SIGKILL');
  }
}

function chainOf(n: number, node: (i: number) => Record<string, unknown>): WorkflowDefinitionInput {
  return {
    name: `chain-${n}`,
    nodes: Array.from({ length: n }, (_, i) => ({ id: `n${i}`, ...node(i) })) as WorkflowDefinitionInput['nodes'],
    edges: Array.from({ length: n - 1 }, (_, i) => ({ from: `n${i}`, to: `n${i + 1}` })),
  };
}

async function overhead(): Promise<Row[]> {
  const n = 1000;
  const reps = quick ? 2 : 5;
  const shapes: [string, WorkflowDefinitionInput][] = [
    ['no-op built-in nodes (parallel)', chainOf(n, () => ({ type: 'parallel' }))],
    [
      "transforms '$prev' (main thread)",
      chainOf(n, (i) => ({ type: 'transform', expression: i === 0 ? '$context' : `$n${i - 1}` })),
    ],
    [
      "transforms '{ v: $prev.v + 1 }' (workers)",
      chainOf(n, (i) => ({ type: 'transform', expression: i === 0 ? "{ 'v': 1 }" : `{ 'v': $n${i - 1}.v + 1 }` })),
    ],
  ];
  const rows: Row[] = [];
  for (const [label, def] of shapes) {
    const f = await engineFixture();
    try {
      const wf = await f.save(def);
      const times: number[] = [];
      let status = '';
      for (let i = 0; i < reps + 1; i++) {
        const t0 = performance.now();
        const rec = await f.engine.waitForRun((await f.engine.startRun({ workflowId: wf, version: 1, input: {} })).runId);
        if (i > 0) times.push(performance.now() - t0); // the first warms caches, the JIT and the workers
        status = rec.status;
      }
      const ms = median(times);
      rows.push({ graph: `chain of ${n} ${label}`, 'run ms': ms, 'µs / node': (ms * 1000) / n, status });
    } finally {
      await f.close();
    }
  }
  const s = sharedExpressionPool().stats();
  rows.push({
    graph: `(sandbox: ${s.jobs} jobs to workers, ${s.direct} answered on the main thread)`,
    'run ms': '',
    'µs / node': '',
    status: '',
  });
  return rows;
}

const results: Record<string, Row[]> = {};
results.health = await healthUnderRunaways();
printTable(`/healthz while runaway expressions run (target p99 ≤ 50 ms) — ${machineLoad()}`, results.health);
results.overhead = await overhead();
printTable(
  `\nEngine overhead per node with the expression sandbox (bar: ≤ 60 µs for built-in nodes) — ${machineLoad()}`,
  results.overhead,
);
await sharedExpressionPool().close();
writeResults('sandbox', results);
