/**
 * The planted-value test: a distinctive secret value is used in every place secrets may go —
 * an http.request header and URL query (against a server that echoes both back, and one that
 * fails with the header in its error body), an A2A agent registered with a credential its card's
 * bearer scheme places, an MCP server registered with an Authorization header (one tool echoes
 * it, one fails with it) — and then the whole SQLite database (file, WAL, shared memory), every
 * event (JSON, SSE and WebSocket), every API response and the server's log are searched for the
 * value, raw and in its URL-encoded, JSON-escaped and base64 forms: zero hits. The remote sides
 * did receive it (the calls succeeded), and what they echoed shows as `[secret:NAME]`.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskState } from '@a2a-js/sdk';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { formatSecretKey, generateSecretKey } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { z } from 'zod';
import {
  agentMessage,
  publishState,
  readUserMessage,
  startAgent,
  startTask,
  textPart,
} from '../../../examples/agents/a2a-kit.ts';
import { type RunningServer, startTrellisServer } from '../src/index.ts';

const ADMIN = 'leak-admin-token-0123456789abcdef';
/** The planted value: '/', '+' and '=' make its URL-encoded and JSON forms differ from it. */
const PLANT = `plnt-${randomUUID().slice(0, 8)}/Zx+9=kV`;
const WF_PLANT = `${PLANT}-wf`;
const FORMS = [PLANT, encodeURIComponent(PLANT), Buffer.from(PLANT).toString('base64'), JSON.stringify(PLANT).slice(1, -1)];

const dir = mkdtempSync(join(tmpdir(), 'trellis-leak-'));
const dbPath = join(dir, 'trellis.db');
const logPath = join(dir, 'server.log');
let srv: RunningServer;
let echo: Server;
let echoBase: string;
const received: { authorization?: string; apiKey?: string; url?: string }[] = [];
let mcp: Server;
let mcpUrl: string;
const mcpAuth: string[] = [];
let agent: Awaited<ReturnType<typeof startAgent>>;
/** Every API response body, as text. */
const responses: string[] = [];

// biome-ignore lint/suspicious/noExplicitAny: reads arbitrary response JSON
async function api(method: string, path: string, body?: unknown, token = ADMIN): Promise<{ status: number; body: any }> {
  const res = await fetch(`${srv.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  responses.push(`${method} ${path} ${res.status} ${JSON.stringify([...res.headers])} ${text}`);
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : undefined;
}

function secureMcpServer(): McpServer {
  const server = new McpServer({ name: 'secure', version: '1.0.0' });
  server.registerTool(
    'whoami',
    { description: 'echoes the Authorization header it was called with', inputSchema: { n: z.number().optional() } },
    async (_args, extra) => {
      const authorization = String(extra.requestInfo?.headers.authorization ?? '');
      return { content: [{ type: 'text', text: JSON.stringify({ authorization }) }], structuredContent: { authorization } };
    },
  );
  server.registerTool('deny', { description: 'fails, quoting the header', inputSchema: {} }, async (_args, extra) => ({
    isError: true,
    content: [{ type: 'text', text: `denied for ${String(extra.requestInfo?.headers.authorization)}` }],
  }));
  return server;
}

beforeAll(async () => {
  echo = createServer((req, res) => {
    received.push({ authorization: req.headers.authorization, apiKey: req.headers['x-api-key'] as string, url: req.url });
    if (req.url?.startsWith('/fail')) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end(`bad credentials: ${req.headers.authorization} (${req.url})`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'x-echo-auth': String(req.headers.authorization) });
    res.end(JSON.stringify({ headers: req.headers, url: req.url }));
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoBase = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;

  const sessions = new Map<string, StreamableHTTPServerTransport>();
  mcp = createServer(async (req, res) => {
    mcpAuth.push(String(req.headers.authorization));
    if (req.headers.authorization !== `Bearer ${PLANT}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'bearer token required' }));
      return;
    }
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    const sid = req.headers['mcp-session-id'];
    let transport = typeof sid === 'string' ? sessions.get(sid) : undefined;
    if (!transport) {
      if (!isInitializeRequest(body)) {
        res.writeHead(404).end();
        return;
      }
      const t: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id: string): void => {
          sessions.set(id, t);
        },
      });
      await secureMcpServer().connect(t);
      transport = t;
    }
    await transport.handleRequest(req, res, body);
  });
  await new Promise<void>((r) => mcp.listen(0, '127.0.0.1', r));
  mcpUrl = `http://127.0.0.1:${(mcp.address() as AddressInfo).port}/mcp`;

  agent = await startAgent({
    name: 'secure-agent',
    description: 'answers only with the bearer token',
    streaming: false,
    bearerToken: PLANT,
    skills: [{ id: 'answer', name: 'Answer', description: 'answers', tags: [] }],
    executor: {
      cancelTask: async () => {},
      execute: async (rc, bus) => {
        const { data } = readUserMessage(rc.userMessage);
        const ids = startTask(rc, bus);
        publishState(bus, ids, TaskState.TASK_STATE_COMPLETED, agentMessage(ids, [textPart(`answered ${JSON.stringify(data)}`)]));
        bus.finished();
      },
    },
  });

  srv = await startTrellisServer({
    db: dbPath,
    host: '127.0.0.1',
    port: 0,
    demo: false,
    adminToken: ADMIN,
    consoleDir: false,
    graceMs: 0,
    allowHosts: ['127.0.0.1'],
    logger: { level: 'trace', file: logPath },
  });
}, 60_000);

afterAll(async () => {
  await srv?.close(0);
  await agent?.close();
  await new Promise((r) => echo?.close(r));
  mcp?.closeAllConnections();
  await new Promise((r) => mcp?.close(r));
});

function hits(text: string): string[] {
  return FORMS.filter((f) => text.includes(f));
}

// biome-ignore lint/suspicious/noExplicitAny: a run record as JSON
async function waitForRun(id: string): Promise<any> {
  // biome-ignore lint/suspicious/noExplicitAny: a run record as JSON
  let last: any;
  for (let i = 0; i < 300; i++) {
    last = (await api('GET', `/workflow_runs/${id}`)).body;
    if (['succeeded', 'failed', 'cancelled'].includes(last.status)) return last;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`run ${id} did not finish: ${JSON.stringify(last)}`);
}

describe('a planted secret value appears nowhere but the encrypted store', () => {
  it('is used in every allowed place, and the database, events, streams, API responses and log never hold it', async () => {
    const alice = (await api('POST', '/tokens', { principal: 'alice' })).body.token as string;
    expect((await api('PUT', '/secrets/PLANTED', { value: PLANT, description: 'the planted value' })).status).toBe(201);

    // Registrations: the agent's card declares HTTP Bearer, so a credential is enough; the MCP server gets a header.
    const reg = await api('POST', '/agents', { url: agent.url, name: 'secure-agent', credential: '{{ $secrets.PLANTED }}' });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    expect(reg.body.headers).toEqual({ Authorization: 'Bearer {{ $secrets.PLANTED }}' });
    const ts = await api('POST', '/tool_servers', {
      name: 'secure',
      url: mcpUrl,
      headers: { Authorization: 'Bearer {{ $secrets.PLANTED }}' },
    });
    expect(ts.status, JSON.stringify(ts.body)).toBe(201);

    const nodes = (apiKey: boolean) => [
      {
        id: 'echo',
        type: 'tool_call',
        tool: 'http.request',
        input: {
          url: `${echoBase}/echo?key={{ $secrets.PLANTED }}&q={{ $context.q }}`,
          headers: {
            Authorization: 'Bearer {{ $secrets.PLANTED }}',
            ...(apiKey ? { 'X-Api-Key': '{{ $secrets.ALICE_KEY }}' } : {}),
          },
        },
      },
      {
        id: 'fail',
        type: 'tool_call',
        tool: 'http.request',
        onError: 'continue',
        input: {
          url: `${echoBase}/fail?key={{ $secrets.PLANTED }}`,
          headers: { Authorization: 'Bearer {{ $secrets.PLANTED }}' },
        },
      },
      { id: 'ask', type: 'agent_call', agent: 'secure-agent', input: { q: '$context.q' } },
      { id: 'who', type: 'tool_call', tool: 'secure/whoami', input: {} },
      { id: 'deny', type: 'tool_call', tool: 'secure/deny', input: {}, onError: 'continue' },
    ];
    const def = (apiKey: boolean) => ({
      name: 'planted',
      nodes: [{ id: 'start', type: 'parallel' }, ...nodes(apiKey)],
      edges: ['echo', 'fail', 'ask', 'who', 'deny'].map((to) => ({ from: 'start', to })),
    });
    // The workflow-scoped secret can only exist once the workflow does: v1 without it, v2 with it.
    const created = await api('POST', '/workflows', def(false), alice);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const wf = created.body.id as string;
    expect((await api('PUT', '/secrets/ALICE_KEY', { value: WF_PLANT, scope: `workflow:${wf}` }, alice)).status).toBe(201);
    const v2 = await api('PUT', `/workflows/${wf}`, def(true), alice);
    expect(v2.status, JSON.stringify(v2.body)).toBe(200);

    // Watch live over WebSocket while it runs.
    const wsText: string[] = [];
    const started = await api('POST', `/workflows/${wf}/run`, { input: { q: 'lisbon' } }, alice);
    expect(started.status).toBe(201);
    const runId = started.body.id as string;
    const live = new WebSocket(`${srv.url.replace(/^http/, 'ws')}/api/v1/ws/workflow_runs/${runId}?after=0`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    const wsDone = new Promise<void>((resolve) => {
      live.on('message', (d) => {
        wsText.push(String(d));
        if (String(d).includes('"kind":"end"')) resolve();
      });
      live.on('close', () => resolve());
    });
    const run = await waitForRun(runId);
    await wsDone;
    live.close();

    // The remote sides got the value (the calls worked), and what they echoed is redacted.
    expect(run.status, JSON.stringify(run)).toBe('succeeded');
    const echoCall = received.find((r) => r.url?.startsWith('/echo'));
    expect(echoCall?.authorization).toBe(`Bearer ${PLANT}`);
    expect(echoCall?.apiKey).toBe(WF_PLANT);
    expect(echoCall?.url).toBe(`/echo?key=${encodeURIComponent(PLANT)}&q=lisbon`);
    expect(mcpAuth.every((a) => a === `Bearer ${PLANT}`)).toBe(true);
    expect(run.nodes.echo.input).toMatchObject({
      url: `${echoBase}/echo?key=[secret:PLANTED]&q=lisbon`,
      headers: { Authorization: 'Bearer [secret:PLANTED]', 'X-Api-Key': '[secret:ALICE_KEY]' },
    });
    expect(run.nodes.echo.output.body.headers.authorization).toBe('Bearer [secret:PLANTED]');
    expect(run.nodes.echo.output.body.headers['x-api-key']).toBe('[secret:ALICE_KEY]');
    expect(run.nodes.echo.output.body.url).toBe('/echo?key=[secret:PLANTED]&q=lisbon');
    expect(run.nodes.echo.output.headers['x-echo-auth']).toBe('Bearer [secret:PLANTED]');
    expect(run.nodes.fail.status).toBe('failed');
    expect(run.nodes.fail.error.code).toBe('HTTP_401');
    expect(run.nodes.fail.error.message).toContain('bad credentials: Bearer [secret:PLANTED]');
    expect(run.nodes.ask.output.text).toBe('answered {"q":"lisbon"}');
    expect(run.nodes.who.output).toEqual({ authorization: 'Bearer [secret:PLANTED]' });
    expect(run.nodes.deny.error.message).toContain('denied for Bearer [secret:PLANTED]');

    // Everything a client can read: run, events (JSON and SSE), lists, exports (templates), the document.
    await api('GET', `/workflow_runs/${runId}/events`);
    const sse = await fetch(`${srv.url}/api/v1/workflow_runs/${runId}/events`, {
      headers: { authorization: `Bearer ${ADMIN}`, accept: 'text/event-stream' },
    });
    const sseText = await sse.text();
    expect(sseText).toContain('event: end');
    await api('GET', `/workflows/${wf}`);
    await api('GET', `/workflows/${wf}/versions/2`);
    await api('GET', `/workflows/${wf}/runs`);
    await api('GET', '/agents');
    await api('GET', '/tool_servers');
    await api('GET', '/tools');
    await api('GET', '/secrets');
    await api('GET', '/secrets', undefined, alice);
    const tpl = await api('POST', '/templates', { workflowId: wf, name: 'planted-template' });
    expect(tpl.status).toBe(201);
    await api('GET', '/templates');
    await api('POST', `/templates/${tpl.body.id}/instantiate`, { name: 'copy' });
    await api('GET', '/openapi.json');
    // A secret may be replaced but never read back: there is no route that returns a value.
    expect((await api('GET', '/secrets/PLANTED')).status).toBe(404);

    expect(wsText.length).toBeGreaterThan(5);
    for (const [what, text] of [
      ['API responses', responses.join('\n')],
      ['the SSE stream', sseText],
      ['the WebSocket stream', wsText.join('\n')],
    ] as const) {
      expect(hits(text), what).toEqual([]);
    }
    expect(responses.join('\n')).toContain('[secret:PLANTED]');

    // The database files (read while the server runs: WAL not yet checkpointed) and the log.
    const files = [dbPath, `${dbPath}-wal`, `${dbPath}-shm`].filter((f) => existsSync(f));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const f of files) expect(hits(readFileSync(f).toString('latin1')), f).toEqual([]);
    await srv.close(0);
    for (const f of [dbPath, `${dbPath}-wal`].filter((x) => existsSync(x))) {
      expect(hits(readFileSync(f).toString('latin1')), `${f} after close`).toEqual([]);
    }
    const log = readFileSync(logPath, 'utf8');
    expect(log.length).toBeGreaterThan(1000);
    expect(hits(log), 'the server log').toEqual([]);
  });

  it('a server started on that database with another key stops at once, saying so', async () => {
    await expect(
      startTrellisServer({
        db: dbPath,
        host: '127.0.0.1',
        port: 0,
        demo: false,
        adminToken: ADMIN,
        consoleDir: false,
        secretKey: formatSecretKey(generateSecretKey()),
      }),
    ).rejects.toThrow(/is not the one this database's secrets were written with/);
  });
});
