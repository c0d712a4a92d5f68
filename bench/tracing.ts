/**
 * Cost of OpenTelemetry tracing (issue 20): engine time per durable tool node on SQLite with
 * tracing off (the default: no OTEL_EXPORTER_OTLP_ENDPOINT) and on (exporting every span over
 * OTLP/HTTP JSON to a receiver on loopback that accepts and discards them).
 *
 *   npx tsx bench/tracing.ts [--quick]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RunnerEngine, runTracerFromEnv } from '@trellis/runtime';
import { chain, engineFixture } from './lib/engine-fixture.ts';
import { median, printTable, type Row, writeResults } from './lib/report.ts';

const quick = process.argv.includes('--quick');
const reps = quick ? 3 : 7;
const nodes = quick ? 200 : 1000;

function finished(engine: RunnerEngine, runId: string): Promise<void> {
  return new Promise((resolve) => {
    const sub = engine.subscribe(runId, {
      after: 0,
      onEvent: () => {},
      onEnd: () => {
        sub.close();
        resolve();
      },
    });
  });
}

let spansReceived = 0;
const receiver = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c) => {
    body += c;
  });
  req.on('end', () => {
    spansReceived += (body.match(/"spanId"/g) ?? []).length;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

async function perNode(mode: 'off' | 'on'): Promise<{ usPerNode: number; spans: number }> {
  // The standard configuration path: the exporter reads the endpoint from the environment.
  if (mode === 'on') process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
  const tracer = mode === 'on' ? runTracerFromEnv() : false;
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const f = await engineFixture({ tracing: tracer ?? false });
  spansReceived = 0;
  try {
    const wf = await f.save(chain(nodes));
    for (let i = 0; i < 2; i++)
      await finished(f.engine, (await f.engine.startRun({ workflowId: wf, version: 1, input: {} })).runId);
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      await finished(f.engine, (await f.engine.startRun({ workflowId: wf, version: 1, input: {} })).runId);
      times.push(performance.now() - t0);
    }
    await f.engine.tracer?.forceFlush();
    return { usPerNode: (median(times) * 1000) / nodes, spans: spansReceived };
  } finally {
    await f.close();
  }
}

const rows: Row[] = [];
// Alternate the modes so that machine noise falls on both.
const results: Record<'off' | 'on', number[]> = { off: [], on: [] };
let spans = 0;
for (let round = 0; round < 2; round++) {
  for (const mode of ['off', 'on'] as const) {
    const r = await perNode(mode);
    results[mode].push(r.usPerNode);
    if (mode === 'on') spans += r.spans;
  }
}
const off = median(results.off);
const on = median(results.on);
rows.push({ tracing: 'off (default)', nodes, 'µs/node': off, 'spans exported': 0 });
rows.push({ tracing: 'on (OTLP/HTTP JSON, loopback)', nodes, 'µs/node': on, 'spans exported': spans });
rows.push({ tracing: 'on − off', nodes, 'µs/node': on - off, 'spans exported': '' });
printTable(`Tracing cost per durable tool node (chain of ${nodes}, median of ${reps} runs × 2 rounds)`, rows);
writeResults('tracing', { nodes, reps, offUsPerNode: off, onUsPerNode: on, spansExported: spans, rounds: results });
receiver.close();
