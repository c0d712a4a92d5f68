/**
 * Trellis as an A2A agent, called by another Trellis: two servers on loopback. The outer
 * workflow's `agent_call` calls the inner workflow through `/a2a/workflows/:id` (the official SDK
 * client inside the connector, the official SDK server behind the route): output and cost come
 * back; the inner gate surfaces as the outer node's `waiting`, approving it in the outer server
 * resumes the inner run; cancelling the outer run cancels the inner one. Cards need a token.
 */
/* biome-ignore-all lint/suspicious/noExplicitAny: the test reads arbitrary response JSON */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHostExecutors } from '@trellis/connectors';
import type { Executor } from '@trellis/core';
import { createEngine, type RunnerEngine } from '@trellis/runtime';
import { createToken, ensureAdmin, openSqlite, type SqliteHandle, SqliteRunStore } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, type TrellisServer } from '../src/index.ts';

interface Node {
  url: string;
  token: string;
  engine: RunnerEngine;
  server: TrellisServer;
  api(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

const costly: Executor = {
  async execute(input, ctx) {
    ctx.reportCost({ costUsd: 0.25, usage: { inputTokens: 100, outputTokens: 20 } });
    const ms = (input as { ms?: number } | null)?.ms ?? 0;
    if (ms) await new Promise((r) => setTimeout(r, ms));
    return { kind: 'succeeded', output: { priced: (input as { item?: string } | null)?.item ?? null } };
  },
};

async function node(name: string): Promise<Node> {
  const handle: SqliteHandle = await openSqlite(join(mkdtempSync(join(tmpdir(), `trellis-${name}-`)), 'db.sqlite'));
  const host = createHostExecutors({ db: handle.db, allowLoopback: true, tools: { 'test.costly': costly } });
  const engine = createEngine({ store: new SqliteRunStore(handle), executors: host.resolver, pollMs: 50 });
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
    async api(method, path, body, as = token) {
      const res = await fetch(`${url}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${as}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
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

let inner: Node;
let outer: Node;
beforeAll(async () => {
  inner = await node('inner');
  outer = await node('outer');
});
afterAll(async () => {
  await outer?.close();
  await inner?.close();
});

describe('a Trellis workflow as an A2A agent', () => {
  it('serves its card to a token holder only, and an index card of the runnable workflows', async () => {
    const wf = await inner.api('POST', '/workflows', {
      name: 'pricer',
      description: 'Prices an item',
      inputSchema: { type: 'object', properties: { item: { type: 'string' } } },
      nodes: [{ id: 'price', type: 'tool_call', tool: 'test.costly', input: { item: '$context.item' } }],
    });
    const cardUrl = `${inner.url}/a2a/workflows/${wf.body.id}/.well-known/agent-card.json`;
    expect((await fetch(cardUrl)).status).toBe(401);
    const card = (await (await fetch(cardUrl, { headers: { authorization: `Bearer ${inner.token}` } })).json()) as any;
    expect(card.name).toBe('pricer');
    expect(card.skills[0].id).toBe(wf.body.id);
    expect(card.securitySchemes.bearer.httpAuthSecurityScheme.scheme).toBe('Bearer');
    expect(card.supportedInterfaces[0].url).toBe(`${inner.url}/a2a/workflows/${wf.body.id}`);
    const index = (await (
      await fetch(`${inner.url}/.well-known/agent-card.json`, { headers: { authorization: `Bearer ${inner.token}` } })
    ).json()) as any;
    expect(index.skills.map((s: { id: string }) => s.id)).toContain(wf.body.id);
    // A principal without a role sees neither.
    const bob = (
      await createToken((inner.server.ctx.db as never) ?? (undefined as never), { principal: 'bob' }).catch(() => undefined)
    )?.token;
    if (bob) expect((await fetch(cardUrl, { headers: { authorization: `Bearer ${bob}` } })).status).toBe(403);
  });

  it('one Trellis calls another: output and cost come back; a gate surfaces and is decided from the outer side; cancelling the outer run while the inner works cancels it', async () => {
    const inWf = await inner.api('POST', '/workflows', {
      name: 'approve-purchase',
      inputSchema: { type: 'object', properties: { item: { type: 'string' } } },
      nodes: [
        { id: 'price', type: 'tool_call', tool: 'test.costly', input: { item: '$context.item' } },
        { id: 'ok', type: 'human_gate', prompt: 'Buy {{ $price.priced }}?' },
        { id: 'done', type: 'transform', expression: "{ 'bought': $price.priced }" },
      ],
      edges: [
        { from: 'price', to: 'ok' },
        { from: 'ok', to: 'done' },
      ],
      output: { bought: '$done.bought' },
    });
    expect(inWf.status).toBe(201);
    // Register the inner workflow as an agent on the outer server: a base URL under a path.
    const reg = await outer.api('POST', '/agents', {
      url: `${inner.url}/a2a/workflows/${inWf.body.id}`,
      name: 'inner-buyer',
      headers: { Authorization: `Bearer ${inner.token}` },
    });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    const outWf = await outer.api('POST', '/workflows', {
      name: 'outer',
      nodes: [{ id: 'buy', type: 'agent_call', agent: 'inner-buyer', input: { item: 'lamp' } }],
      output: { result: '$buy' },
    });
    expect(outWf.status, JSON.stringify(outWf.body)).toBe(201);
    const run = await outer.api('POST', `/workflows/${outWf.body.id}/run`, {});
    const waiting = await outer.engine.waitForRun(run.body.id, { orWaiting: true });
    expect(waiting.status).toBe('waiting');
    expect(waiting.nodes.buy?.prompt).toContain('Buy lamp?');
    const innerRuns = await inner.api('GET', `/workflows/${inWf.body.id}/runs`);
    const innerRunId = innerRuns.body.items[0].id as string;
    expect(innerRuns.body.items[0].status).toBe('waiting');

    const decided = await outer.api('POST', `/workflow_runs/${run.body.id}/nodes/buy/approve`, { comment: 'go' });
    expect(decided.status).toBeLessThan(300);
    const done = await outer.engine.waitForRun(run.body.id);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect((done.output as { result: { bought: string } }).result.bought).toBe('lamp');
    expect((await inner.engine.getRun(innerRunId))?.status).toBe('succeeded');
    expect(done.costUsd).toBeCloseTo(0.25);

    // Cancelling the outer run while the inner one works cancels the inner one.
    const slow = await inner.api('POST', '/workflows', {
      name: 'slow-pricer',
      nodes: [{ id: 'price', type: 'tool_call', tool: 'test.costly', input: { item: 'sofa', ms: 20_000 } }],
    });
    await outer.api('POST', '/agents', {
      url: `${inner.url}/a2a/workflows/${slow.body.id}`,
      name: 'inner-slow',
      headers: { Authorization: `Bearer ${inner.token}` },
    });
    const outSlow = await outer.api('POST', '/workflows', {
      name: 'outer-slow',
      nodes: [{ id: 'ask', type: 'agent_call', agent: 'inner-slow', input: {} }],
    });
    const run2 = await outer.api('POST', `/workflows/${outSlow.body.id}/run`, {});
    await expect
      .poll(async () => (await inner.api('GET', `/workflows/${slow.body.id}/runs`)).body.items[0]?.status)
      .toBe('running');
    const inner2 = (await inner.api('GET', `/workflows/${slow.body.id}/runs`)).body.items[0].id as string;
    await outer.api('POST', `/workflow_runs/${run2.body.id}/cancel`, {});
    expect((await outer.engine.waitForRun(run2.body.id)).status).toBe('cancelled');
    await expect.poll(async () => (await inner.engine.getRun(inner2))?.status, { timeout: 10_000 }).toBe('cancelled');
  });

  it('cancelling the outer run while the inner run waits at its gate cancels the inner run (tasks/cancel)', async () => {
    const gated = await inner.api('POST', '/workflows', {
      name: 'gated-purchase',
      nodes: [
        { id: 'price', type: 'tool_call', tool: 'test.costly', input: { item: 'desk' } },
        { id: 'ok', type: 'human_gate', prompt: 'Buy {{ $price.priced }}?' },
      ],
      edges: [{ from: 'price', to: 'ok' }],
    });
    await outer.api('POST', '/agents', {
      url: `${inner.url}/a2a/workflows/${gated.body.id}`,
      name: 'inner-gated',
      headers: { Authorization: `Bearer ${inner.token}` },
    });
    const outWf = await outer.api('POST', '/workflows', {
      name: 'outer-gated',
      nodes: [{ id: 'buy', type: 'agent_call', agent: 'inner-gated', input: {} }],
    });
    const run = await outer.api('POST', `/workflows/${outWf.body.id}/run`, {});
    const waiting = await outer.engine.waitForRun(run.body.id, { orWaiting: true });
    expect(waiting.status).toBe('waiting');
    expect(waiting.nodes.buy?.prompt).toContain('Buy desk?');
    const innerRunId = (await inner.api('GET', `/workflows/${gated.body.id}/runs`)).body.items[0].id as string;
    expect((await inner.engine.getRun(innerRunId))?.status).toBe('waiting');
    await outer.api('POST', `/workflow_runs/${run.body.id}/cancel`, {});
    expect((await outer.engine.waitForRun(run.body.id)).status).toBe('cancelled');
    await expect.poll(async () => (await inner.engine.getRun(innerRunId))?.status, { timeout: 10_000 }).toBe('cancelled');
    // Nobody decided the inner gate: it was cancelled, not rejected.
    const events = await inner.engine.listEvents(innerRunId, 0);
    expect(events.map((e) => e.type)).not.toContain('gate.rejected');
  });
});
