/**
 * W3C trace context through Trellis, checked against a real OTLP/HTTP receiver on loopback:
 * a caller's `traceparent` on the run-start API, a webhook delivery, an MCP tool call
 * (`_meta.traceparent`) and an A2A message/send becomes the parent of the run span; the attempt
 * spans' context goes out on A2A requests (to a demo agent that records what it received, and to
 * a second Trellis whose run joins the same trace) and on MCP tool calls (the demo pricing
 * server records `_meta.traceparent`); a sub-workflow's run span is a child of the parent's
 * `workflow` node attempt span. The context is stored with the run (`runs.trace_parent`).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createHostExecutors } from '@trellis/connectors';
import { createEngine, type RunnerEngine, runSpanId } from '@trellis/runtime';
import { createWorkflowResolver, ensureAdmin, openSqlite, type SqliteHandle, SqliteRunStore } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receivedTraceparents as agentTraceparents, type RunningAgent } from '../../../examples/agents/a2a-kit.ts';
import { startHotelAgent } from '../../../examples/agents/hotel-agent.ts';
import { type RunningMcpServer, startPricingHttpServer } from '../../../examples/mcp/http.ts';
import { receivedTraceparents as toolTraceparents } from '../../../examples/mcp/pricing-server.ts';
import { buildServer, type TrellisServer } from '../src/index.ts';
import { signBody } from '../src/triggers/signature.ts';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

function attr(span: OtlpSpan | undefined, key: string): unknown {
  const v = span?.attributes?.find((a) => a.key === key)?.value;
  return v ? (v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.doubleValue)) : undefined;
}

const spans: OtlpSpan[] = [];
let receiver: Server;
const saved = { ...process.env };

interface Node {
  url: string;
  token: string;
  engine: RunnerEngine;
  server: TrellisServer;
  handle: SqliteHandle;
  // biome-ignore lint/suspicious/noExplicitAny: reads arbitrary response JSON
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

async function node(name: string): Promise<Node> {
  const handle = await openSqlite(join(mkdtempSync(join(tmpdir(), `trellis-trace-${name}-`)), 'db.sqlite'));
  const host = createHostExecutors({ db: handle.db, allowLoopback: true });
  // Tracing comes from the standard variables set below (OTEL_EXPORTER_OTLP_ENDPOINT).
  const engine = createEngine({
    store: new SqliteRunStore(handle),
    executors: host.resolver,
    pollMs: 50,
    workflows: createWorkflowResolver(handle.db),
  });
  await engine.whenReady();
  const server = await buildServer({ store: handle, engine, connectors: host.connectors, consoleDir: false });
  const token = `${name}-admin-token-0123456789abcdef`;
  await ensureAdmin(handle.db, token);
  const url = (await server.app.listen({ host: '127.0.0.1', port: 0 })).replace('[::1]', '127.0.0.1');
  return {
    url,
    token,
    engine,
    server,
    handle,
    async api(method, path, body, headers = {}) {
      const res = await fetch(`${url}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async close() {
      await server.app.close();
      await engine.shutdown(0);
      await host.close();
      await handle.close();
    },
  };
}

let outer: Node;
let inner: Node;
let agent: RunningAgent;
let mcp: RunningMcpServer;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const msg = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const rs of msg.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  process.env.OTEL_BSP_SCHEDULE_DELAY = '50';
  [outer, inner, agent, mcp] = await Promise.all([node('outer'), node('inner'), startHotelAgent(0), startPricingHttpServer()]);
}, 60_000);

afterAll(async () => {
  process.env = saved;
  await outer?.close();
  await inner?.close();
  await agent?.close();
  await mcp?.close();
  await new Promise((r) => receiver.close(r));
});

function newTraceParent(): { traceId: string; spanId: string; header: string } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, header: `00-${traceId}-${spanId}-01` };
}

/** Waits until `pred` holds for the spans received so far. */
async function spansUntil(pred: (all: OtlpSpan[]) => boolean): Promise<OtlpSpan[]> {
  for (let i = 0; i < 400 && !pred(spans); i++) {
    await Promise.all([outer.engine.tracer?.forceFlush(), inner.engine.tracer?.forceFlush()]);
    await new Promise((r) => setTimeout(r, 25));
  }
  return spans;
}

async function finished(n: Node, runId: string): Promise<{ status: string; error?: unknown }> {
  const r = await n.engine.waitForRun(runId);
  return { status: r.status, error: r.error };
}

async function storedTraceParent(n: Node, runId: string): Promise<string | null | undefined> {
  const row = await n.handle.db.selectFrom('runs').select('trace_parent').where('id', '=', runId).executeTakeFirst();
  return row?.trace_parent;
}

describe('a caller trace continues through Trellis and the agents and tools it calls', () => {
  it('API start → run span under the caller; A2A (demo agent, a second Trellis), MCP and a sub-workflow join the trace', async () => {
    expect(outer.engine.tracer, 'tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT)').toBeDefined();
    // The inner Trellis serves a workflow as an A2A agent; the outer one registers it, a demo agent and the pricing MCP server.
    const innerWf = await inner.api('POST', '/workflows', {
      name: 'inner-step',
      nodes: [{ id: 'note', type: 'transform', expression: "'noted'" }],
    });
    expect(innerWf.status, JSON.stringify(innerWf.body)).toBe(201);
    for (const reg of [
      outer.api('POST', '/agents', {
        url: `${inner.url}/a2a/workflows/${innerWf.body.id}`,
        name: 'inner',
        headers: { Authorization: `Bearer ${inner.token}` },
      }),
      outer.api('POST', '/agents', { url: agent.url, name: 'hotels' }),
      outer.api('POST', '/tool_servers', { name: 'pricing', url: mcp.url }),
    ]) {
      const r = await reg;
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    }
    const child = await outer.api('POST', '/workflows', {
      name: 'child-step',
      nodes: [{ id: 'inside', type: 'transform', expression: "'inside'" }],
    });
    expect(child.status).toBe(201);
    const wf = await outer.api('POST', '/workflows', {
      name: 'traced-parent',
      nodes: [
        { id: 'hotels', type: 'agent_call', agent: 'hotels', skill: 'search', input: { city: 'Lisbon' } },
        { id: 'convert', type: 'tool_call', tool: 'pricing/convert', input: { amount: 100, from: 'EUR', to: 'USD' } },
        { id: 'ask_inner', type: 'agent_call', agent: 'inner', input: { x: 1 } },
        { id: 'sub', type: 'workflow', workflow: child.body.id },
      ],
      edges: [
        { from: 'hotels', to: 'convert' },
        { from: 'convert', to: 'ask_inner' },
        { from: 'ask_inner', to: 'sub' },
      ],
    });
    expect(wf.status, JSON.stringify(wf.body)).toBe(201);

    const caller = newTraceParent();
    const agentSeen = agentTraceparents.length;
    const toolSeen = toolTraceparents.length;
    const started = await outer.api('POST', `/workflows/${wf.body.id}/run`, {}, { traceparent: caller.header });
    expect(started.status).toBe(201);
    const runId = started.body.id as string;
    expect(await finished(outer, runId)).toEqual({ status: 'succeeded', error: null });
    // Stored with the run, so whoever resumes it after a crash continues the same trace.
    expect(await storedTraceParent(outer, runId)).toBe(caller.header);

    const record = await outer.engine.getRun(runId);
    const childRunId = (record?.nodes.sub?.output as { _run?: string } | undefined)?._run ?? '';
    const innerRuns = await inner.api('GET', `/workflows/${innerWf.body.id}/runs`);
    const innerRunId = innerRuns.body.items[0].id as string;
    const all = await spansUntil(
      (s) =>
        s.some((x) => x.spanId === runSpanId(runId)) &&
        s.some((x) => x.spanId === runSpanId(childRunId)) &&
        s.some((x) => x.spanId === runSpanId(innerRunId)),
    );
    const trace = all.filter((s) => s.traceId === caller.traceId);
    const byName = (name: string) => trace.find((s) => s.name === name);

    // The run span: the caller's span is its parent, in the caller's trace.
    const runSpan = trace.find((s) => s.spanId === runSpanId(runId));
    expect(runSpan?.parentSpanId).toBe(caller.spanId);
    const hotels = byName('agent_call hotels');
    const convert = byName('tool_call convert');
    const askInner = byName('agent_call ask_inner');
    const sub = byName('workflow sub');
    for (const s of [hotels, convert, askInner, sub]) expect(s?.parentSpanId).toBe(runSpan?.spanId);

    // A2A: the demo agent received the `hotels` attempt's context.
    const toAgent = agentTraceparents.slice(agentSeen).filter((r) => r.agent === 'hotel-agent');
    expect(toAgent.length).toBeGreaterThan(0);
    for (const r of toAgent) expect(r.traceparent).toBe(`00-${caller.traceId}-${hotels?.spanId}-01`);
    // MCP: the pricing server received the `convert` attempt's context in `_meta.traceparent`.
    expect(toolTraceparents.slice(toolSeen)).toEqual([
      { tool: 'convert', traceparent: `00-${caller.traceId}-${convert?.spanId}-01` },
    ]);
    // A second Trellis: its run continues the trace under the `ask_inner` attempt span.
    expect(await storedTraceParent(inner, innerRunId)).toBe(`00-${caller.traceId}-${askInner?.spanId}-01`);
    const innerRunSpan = trace.find((s) => s.spanId === runSpanId(innerRunId));
    expect(innerRunSpan?.parentSpanId).toBe(askInner?.spanId);
    expect(trace.find((s) => s.name === 'transform note')?.parentSpanId).toBe(innerRunSpan?.spanId);
    // Sub-workflow: the child run's span is a child of the `workflow` node attempt, same trace.
    const childSpan = trace.find((s) => s.spanId === runSpanId(childRunId));
    expect(childSpan?.parentSpanId).toBe(sub?.spanId);
    expect(attr(childSpan, 'trellis.run.id')).toBe(childRunId);
    expect(trace.find((s) => s.name === 'transform inside')?.parentSpanId).toBe(childSpan?.spanId);
  }, 60_000);

  it('webhook deliveries and MCP tool calls carry the caller context; an invalid traceparent is ignored', async () => {
    const wf = await outer.api('POST', '/workflows', {
      name: 'Hooked',
      inputSchema: { type: 'object', properties: { n: { type: 'number' } } },
      nodes: [{ id: 'n', type: 'transform', expression: '$context.n' }],
      triggers: [{ id: 'hook', type: 'webhook' }],
    });
    expect(wf.status, JSON.stringify(wf.body)).toBe(201);
    const secret = (await outer.api('POST', `/workflows/${wf.body.id}/triggers/hook/secret`)).body.secret as string;

    // Webhook.
    const viaHook = newTraceParent();
    const body = JSON.stringify({ n: 1 });
    const hook = await fetch(`${outer.url}/api/v1/hooks/${wf.body.id}/hook?wait=10`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-trellis-signature': signBody(secret, body), traceparent: viaHook.header },
      body,
    });
    expect(hook.status).toBe(200);
    const hookRun = ((await hook.json()) as { runId: string }).runId;
    expect(await storedTraceParent(outer, hookRun)).toBe(viaHook.header);

    // MCP tool call with `_meta.traceparent`.
    const viaMcp = newTraceParent();
    const client = new Client({ name: 'traced-host', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${outer.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${outer.token}` } },
      }),
    );
    const res = (await client.callTool({ name: 'Hooked', arguments: { n: 2 }, _meta: { traceparent: viaMcp.header } })) as {
      structuredContent?: { runId?: string };
      content: { text?: string }[];
    };
    await client.close();
    const runs = await outer.handle.db
      .selectFrom('runs')
      .select(['id', 'trace_parent'])
      .where('workflow_id', '=', wf.body.id)
      .execute();
    const mcpRun = runs.find((r) => r.trace_parent === viaMcp.header);
    expect(mcpRun, JSON.stringify(res)).toBeDefined();

    // An invalid header (version ff, all-zero ids, upper case) is ignored: the run starts its own trace.
    for (const bad of [`ff-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, `00-${'0'.repeat(32)}-${'b'.repeat(16)}-01`, 'nonsense']) {
      const r = await outer.api('POST', `/workflows/${wf.body.id}/run`, { input: { n: 3 } }, { traceparent: bad });
      expect(r.status).toBe(201);
      expect(await storedTraceParent(outer, r.body.id)).toBeNull();
    }

    const all = await spansUntil(
      (s) => s.some((x) => x.spanId === runSpanId(hookRun)) && s.some((x) => x.spanId === runSpanId(mcpRun?.id ?? '')),
    );
    const hookSpan = all.find((s) => s.spanId === runSpanId(hookRun));
    expect(hookSpan).toMatchObject({ traceId: viaHook.traceId, parentSpanId: viaHook.spanId });
    const mcpSpan = all.find((s) => s.spanId === runSpanId(mcpRun?.id ?? ''));
    expect(mcpSpan).toMatchObject({ traceId: viaMcp.traceId, parentSpanId: viaMcp.spanId });
  }, 60_000);
});
