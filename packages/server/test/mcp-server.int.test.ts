/**
 * Trellis as an MCP server, driven by the official MCP client over Streamable HTTP on loopback:
 * per-principal tool lists that change when permissions change (list_changed), a workflow called
 * as a tool (structured output, progress notifications, schema errors), a gate reported with its
 * prompt and never approved, long runs followed with the lifecycle tools, cancellation from the
 * client, and authentication (no token, a revoked token, another principal's session).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { revokeToken } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateWorkflow, json, startTestServer, type TestServer } from './helpers.ts';

let t: TestServer;
let base: string;
const clients: Client[] = [];

async function connect(token: string): Promise<Client> {
  const client = new Client({ name: 'test-host', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
  );
  clients.push(client);
  return client;
}

beforeAll(async () => {
  t = await startTestServer({ mcpWaitMs: 5_000, mcpListCheckMs: 150 });
  base = (await t.server.app.listen({ host: '127.0.0.1', port: 0 })).replace('[::1]', '127.0.0.1');
});
afterAll(async () => {
  for (const c of clients) await c.close().catch(() => {});
  await t.close();
});

async function create(body: unknown, token = t.tokens.alice): Promise<string> {
  const res = await t.request('POST', '/api/v1/workflows', { body, token });
  expect(res.statusCode).toBe(201);
  return json(res).id;
}

const greet = {
  name: 'Greet someone!',
  description: 'Says hello',
  inputSchema: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
  nodes: [
    { id: 'a', type: 'tool_call', tool: 'test.echo', input: { name: '$context.name' } },
    { id: 'b', type: 'transform', expression: "'hello ' & $a.name" },
  ],
  edges: [{ from: 'a', to: 'b' }],
  output: { greeting: '$b' },
};

describe('Trellis as an MCP server', () => {
  it('lists, per principal, the workflows it may run, and says when that list changes', async () => {
    const greetId = await create(greet);
    const alice = await connect(t.tokens.alice);
    const names = (await alice.listTools()).tools.map((x) => x.name);
    expect(names).toContain('Greet_someone');
    expect(names).toEqual(
      expect.arrayContaining(['trellis_run_status', 'trellis_await_run', 'trellis_cancel_run', 'trellis_list_runs']),
    );
    const tool = (await alice.listTools()).tools.find((x) => x.name === 'Greet_someone');
    expect(tool?.description).toBe('Says hello');
    expect(tool?.inputSchema).toMatchObject({ required: ['name'] });

    const bob = await connect(t.tokens.bob);
    const changed = new Promise<void>((resolve) =>
      bob.setNotificationHandler(ToolListChangedNotificationSchema, async () => resolve()),
    );
    expect((await bob.listTools()).tools.map((x) => x.name)).not.toContain('Greet_someone');
    const granted = await t.request('PUT', `/api/v1/workflows/${greetId}/permissions`, {
      body: [
        { principal: 'alice', role: 'owner' },
        { principal: 'bob', role: 'runner' },
      ],
    });
    expect(granted.statusCode).toBe(200);
    await changed;
    expect((await bob.listTools()).tools.map((x) => x.name)).toContain('Greet_someone');
  });

  it('says when the list changes because a workflow is saved, changes its input, or is deleted', async () => {
    const alice = await connect(t.tokens.alice);
    await alice.listTools();
    let changes = 0;
    alice.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      changes++;
    });
    const id = await create({ ...greet, name: 'listed-then-gone' });
    await expect.poll(() => changes, { timeout: 5_000 }).toBe(1);
    expect((await alice.listTools()).tools.map((x) => x.name)).toContain('listed-then-gone');
    // A new version (its input schema changed) is a change of the tool.
    const saved = await t.request('PUT', `/api/v1/workflows/${id}`, {
      body: { ...greet, name: 'listed-then-gone', inputSchema: { type: 'object', properties: { who: { type: 'string' } } } },
    });
    expect(saved.statusCode, saved.body).toBeLessThan(300);
    await expect.poll(() => changes, { timeout: 5_000 }).toBe(2);
    const tool = (await alice.listTools()).tools.find((x) => x.name === 'listed-then-gone');
    expect(tool?.inputSchema).toMatchObject({ properties: { who: { type: 'string' } } });
    expect((await t.request('DELETE', `/api/v1/workflows/${id}`)).statusCode).toBeLessThan(300);
    await expect.poll(() => changes, { timeout: 5_000 }).toBe(3);
    expect((await alice.listTools()).tools.map((x) => x.name)).not.toContain('listed-then-gone');
  });

  it('runs a workflow as a tool: structured output, progress per node, schema errors as tool errors', async () => {
    const alice = await connect(t.tokens.alice);
    const progress: string[] = [];
    const r = await alice.callTool({ name: 'Greet_someone', arguments: { name: 'Ada' } }, undefined, {
      onprogress: (p) => {
        progress.push(String(p.message));
      },
    });
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    expect(r.structuredContent).toEqual({ greeting: 'hello Ada' });
    expect((r.content as { text: string }[])[0]?.text).toContain('hello Ada');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.join(' ')).toContain('a: succeeded');
    // The run and its cost ride in the result's _meta.
    expect(r._meta).toMatchObject({ 'trellis/runId': expect.any(String), 'trellis/status': 'succeeded', 'trellis/costUsd': 0 });

    const bad = await alice.callTool({ name: 'Greet_someone', arguments: { nom: 'Ada' } });
    expect(bad.isError).toBe(true);
    expect((bad.content as { text: string }[])[0]?.text).toMatch(/INPUT_INVALID/);
  });

  it('reports a gate with its prompt and console link, never approves it; await_run follows up', async () => {
    await create(gateWorkflow('mcp-gated'));
    const alice = await connect(t.tokens.alice);
    const r = await alice.callTool({ name: 'mcp-gated', arguments: {} });
    const s = r.structuredContent as {
      runId: string;
      status: string;
      waitingFor: { nodeId: string; prompt: string }[];
      consoleUrl: string;
    };
    expect(s.status).toBe('waiting');
    expect(s.waitingFor).toEqual([{ nodeId: 'approve', prompt: 'Buy thing?' }]);
    expect(s.consoleUrl).toBe(`${base}/runs/${s.runId}`);
    expect((await t.engine.getRun(s.runId))?.status).toBe('waiting');
    await t.request('POST', `/api/v1/workflow_runs/${s.runId}/nodes/approve/approve`, { body: {} });
    await expect.poll(async () => (await t.engine.getRun(s.runId))?.status).toBe('succeeded');
    const done = await alice.callTool({ name: 'trellis_await_run', arguments: { runId: s.runId } });
    expect(done.structuredContent).toEqual({ after: 'bought thing' });
  });

  it('a long run returns { runId, status }; the lifecycle tools list, follow and cancel it; client cancellation cancels the run', async () => {
    const slowId = await create({
      name: 'slow',
      nodes: [{ id: 'wait', type: 'tool_call', tool: 'test.echo', input: { delayMs: 20_000 } }],
    });
    const alice = await connect(t.tokens.alice);
    const r = await alice.callTool({ name: 'slow', arguments: {} });
    const s = r.structuredContent as { runId: string; status: string };
    expect(s.status).toBe('running');
    const listed = await alice.callTool({ name: 'trellis_list_runs', arguments: { workflow: slowId } });
    expect((listed.structuredContent as { runs: { runId: string }[] }).runs[0]?.runId).toBe(s.runId);
    const status = await alice.callTool({ name: 'trellis_run_status', arguments: { runId: s.runId } });
    expect((status.structuredContent as { status: string }).status).toBe('running');
    // Bob holds no role on it: he can neither see nor cancel it.
    const bob = await connect(t.tokens.bob);
    expect((await bob.callTool({ name: 'trellis_cancel_run', arguments: { runId: s.runId } })).isError).toBe(true);
    const cancelled = await alice.callTool({ name: 'trellis_cancel_run', arguments: { runId: s.runId } });
    expect((cancelled.structuredContent as { status: string }).status).toBe('cancelled');

    const abort = new AbortController();
    const call = alice.callTool({ name: 'slow', arguments: {} }, undefined, { signal: abort.signal });
    await new Promise((resolve) => setTimeout(resolve, 300));
    abort.abort();
    await expect(call).rejects.toThrow();
    await expect
      .poll(async () => (await t.engine.listRuns({ workflowId: slowId, limit: 1 })).runs[0]?.status, { timeout: 5_000 })
      .toBe('cancelled');
  });

  it('refuses a missing or revoked token and another principal’s session', async () => {
    const noToken = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }),
    });
    expect(noToken.status).toBe(401);

    const alice = await connect(t.tokens.alice);
    const sessionId = (alice.transport as StreamableHTTPClientTransport).sessionId as string;
    const stolen = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${t.tokens.bob}`,
        'mcp-session-id': sessionId,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }),
    });
    expect(stolen.status).toBe(403);

    const carolToken = t.tokens.carol;
    const carol = await connect(carolToken);
    const tokenId = (
      await t.handle.db.selectFrom('api_tokens').select('id').where('principal', '=', 'carol').executeTakeFirstOrThrow()
    ).id;
    await revokeToken(t.handle.db, tokenId);
    await new Promise((resolve) => setTimeout(resolve, 2_100)); // the verified-token cache lives 2 s
    await expect(carol.listTools()).rejects.toThrow();
  });
});
