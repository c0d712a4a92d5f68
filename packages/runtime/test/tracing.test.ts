/**
 * OpenTelemetry traces of runs, exported over OTLP/HTTP (JSON) to a real receiver on loopback:
 * one trace per run, a span per node attempt under the run span, retries as events, cost and
 * token attributes, and the attempt's `traceparent` on outbound http.request calls.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Executor } from '@trellis/core';
import { TrellisError } from '@trellis/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createExecutorResolver,
  createHttpRequestExecutor,
  createOutboundGuard,
  LOOPBACK_ALLOW_HOSTS,
  runSpanId,
  runTraceId,
  tracingEnabled,
} from '../src/index.ts';
import { type Harness, harness } from './harness.ts';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  status?: { code?: number; message?: string };
  attributes?: { key: string; value: Record<string, unknown> }[];
  events?: { name: string; attributes?: { key: string; value: Record<string, unknown> }[] }[];
}

function attrs(list: OtlpSpan['attributes']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of list ?? []) {
    const v = a.value;
    out[a.key] = v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? v.boolValue));
  }
  return out;
}

let receiver: Server;
let downstream: Server;
const received: { spans: OtlpSpan[]; resources: Record<string, unknown>[]; contentTypes: string[] } = {
  spans: [],
  resources: [],
  contentTypes: [],
};
const downstreamHeaders: IncomingHttpHeaders[] = [];
let downstreamUrl = '';
const saved = { ...process.env };

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  // The OTLP/HTTP receiver: POST /v1/traces with an ExportTraceServiceRequest in JSON.
  receiver = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      received.contentTypes.push(String(req.headers['content-type']));
      const msg = JSON.parse(body) as {
        resourceSpans: { resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
      };
      for (const rs of msg.resourceSpans) {
        received.resources.push(attrs(rs.resource.attributes));
        for (const ss of rs.scopeSpans) received.spans.push(...ss.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  downstream = createServer((req, res) => {
    downstreamHeaders.push(req.headers);
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  const [r, d] = await Promise.all([listen(receiver), listen(downstream)]);
  downstreamUrl = d;
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = r;
  process.env.OTEL_SERVICE_NAME = 'trellis-test';
  process.env.OTEL_BSP_SCHEDULE_DELAY = '50';
});

afterAll(async () => {
  process.env = saved;
  await Promise.all([new Promise((r) => receiver.close(r)), new Promise((r) => downstream.close(r))]);
});

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function spansOf(traceId: string, count: number): Promise<OtlpSpan[]> {
  for (let i = 0; i < 200; i++) {
    const spans = received.spans.filter((s) => s.traceId === traceId);
    if (spans.length >= count) return spans;
    await new Promise((r) => setTimeout(r, 25));
  }
  return received.spans.filter((s) => s.traceId === traceId);
}

describe('tracing configuration', () => {
  it('is off unless an OTLP endpoint is set, and off when disabled', () => {
    expect(tracingEnabled({})).toBe(false);
    expect(tracingEnabled({ OTEL_SERVICE_NAME: 'x' })).toBe(false);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toBe(true);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' })).toBe(true);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
  });

  it('derives a run trace id (32 hex) and run span id (16 hex) from the run id', () => {
    expect(runTraceId('r1')).toMatch(/^[0-9a-f]{32}$/);
    expect(runSpanId('r1')).toMatch(/^[0-9a-f]{16}$/);
    expect(runTraceId('r1')).toBe(runTraceId('r1'));
    expect(runTraceId('r1')).not.toBe(runTraceId('r2'));
  });
});

describe('run traces over OTLP/HTTP', () => {
  it('exports a run span with one child span per attempt, retries as events, cost and tokens, and propagates traceparent', async () => {
    let flakyCalls = 0;
    const flaky: Executor = {
      async execute() {
        flakyCalls++;
        if (flakyCalls === 1) throw TrellisError.retryable('HTTP_503', 'unavailable');
        return { kind: 'succeeded', output: { n: 1 }, cost: { costUsd: 0.25 } };
      },
    };
    const writer: Executor = {
      async execute(_input, ctx) {
        ctx.reportCost({ costUsd: 0.5, usage: { inputTokens: 120, outputTokens: 30 } });
        return { kind: 'succeeded', output: 'text' };
      },
    };
    const guard = createOutboundGuard({ allowHosts: LOOPBACK_ALLOW_HOSTS });
    h = await harness({
      engine: {
        executors: createExecutorResolver({
          tools: { flaky, 'http.request': createHttpRequestExecutor({ guard }) },
          agentCall: writer,
        }),
      },
    });
    expect(h.engine.tracer).toBeDefined();
    const wf = await h.save({
      name: 'traced',
      nodes: [
        { id: 'fetch', type: 'tool_call', tool: 'flaky', retry: { maxAttempts: 3, initialDelayMs: 5 } },
        { id: 'write', type: 'agent_call', agent: 'writer' },
        { id: 'notify', type: 'tool_call', tool: 'http.request', input: { url: downstreamUrl, method: 'POST', body: { x: 1 } } },
      ],
      edges: [
        { from: 'fetch', to: 'write' },
        { from: 'write', to: 'notify' },
      ],
    });
    const rec = await h.run(wf);
    expect(rec.status).toBe('succeeded');
    await h.engine.tracer?.forceFlush();

    const traceId = runTraceId(rec.id);
    const spans = await spansOf(traceId, 5);
    expect(received.contentTypes[0]).toContain('application/json');
    expect(received.resources.some((r) => r['service.name'] === 'trellis-test')).toBe(true);
    expect(spans.map((s) => s.name).sort()).toEqual([
      'agent_call write',
      'run traced',
      'tool_call fetch',
      'tool_call fetch',
      'tool_call notify',
    ]);

    const root = spans.find((s) => s.name === 'run traced')!;
    expect(root.spanId).toBe(runSpanId(rec.id));
    expect(root.parentSpanId ?? '').toBe('');
    expect(attrs(root.attributes)).toMatchObject({
      'trellis.run.id': rec.id,
      'trellis.workflow.id': wf,
      'trellis.workflow.version': 1,
      'trellis.workflow.name': 'traced',
      'trellis.run.status': 'succeeded',
      'trellis.cost_usd': 0.75,
    });
    expect(root.status?.code).toBe(1); // OK

    for (const s of spans.filter((x) => x !== root)) expect(s.parentSpanId).toBe(root.spanId);

    const fetches = spans
      .filter((s) => s.name === 'tool_call fetch')
      .sort((a, b) => Number(attrs(a.attributes)['trellis.node.attempt']) - Number(attrs(b.attributes)['trellis.node.attempt']));
    const [first, second] = fetches as [OtlpSpan, OtlpSpan];
    expect(attrs(first.attributes)).toMatchObject({
      'trellis.node.id': 'fetch',
      'trellis.node.type': 'tool_call',
      'trellis.node.attempt': 1,
      'trellis.tool': 'flaky',
      'trellis.node.outcome': 'retrying',
      'error.type': 'HTTP_503',
    });
    expect(first.status?.code).toBe(2); // ERROR
    const retrying = (await h.events(rec.id)).find((e) => e.type === 'node.retrying');
    const delayMs = retrying?.type === 'node.retrying' ? retrying.data.delayMs : -1;
    expect(delayMs).toBeGreaterThanOrEqual(0);
    const retry = first.events?.find((e) => e.name === 'trellis.retry');
    expect(retry && attrs(retry.attributes)).toMatchObject({
      'trellis.retry.delay_ms': delayMs,
      'trellis.retry.next_attempt': 2,
    });
    expect(attrs(second.attributes)).toMatchObject({
      'trellis.node.attempt': 2,
      'trellis.node.outcome': 'succeeded',
      'trellis.node.backoff_ms': delayMs,
      'trellis.cost_usd': 0.25,
      'trellis.workflow.id': wf,
    });

    const write = spans.find((s) => s.name === 'agent_call write')!;
    expect(attrs(write.attributes)).toMatchObject({
      'trellis.node.type': 'agent_call',
      'trellis.agent': 'writer',
      'gen_ai.agent.name': 'writer',
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.usage.input_tokens': 120,
      'gen_ai.usage.output_tokens': 30,
      'trellis.cost_usd': 0.5,
    });

    // The downstream service received the notify attempt's span as its parent.
    const notify = spans.find((s) => s.name === 'tool_call notify')!;
    expect(downstreamHeaders).toHaveLength(1);
    expect(downstreamHeaders[0]!.traceparent).toBe(`00-${traceId}-${notify.spanId}-01`);
  });

  it('adds no traceparent and exports nothing with tracing: false', async () => {
    const before = received.spans.length;
    const guard = createOutboundGuard({ allowHosts: LOOPBACK_ALLOW_HOSTS });
    h = await harness({
      engine: {
        tracing: false,
        executors: createExecutorResolver({ tools: { 'http.request': createHttpRequestExecutor({ guard }) } }),
      },
    });
    expect(h.engine.tracer).toBeUndefined();
    const wf = await h.save({
      name: 'untraced',
      nodes: [{ id: 'notify', type: 'tool_call', tool: 'http.request', input: { url: downstreamUrl } }],
      edges: [],
    });
    const rec = await h.run(wf);
    expect(rec.status).toBe('succeeded');
    expect(downstreamHeaders.at(-1)?.traceparent).toBeUndefined();
    await new Promise((r) => setTimeout(r, 150));
    expect(received.spans.length).toBe(before);
  });
});
