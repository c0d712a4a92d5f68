/**
 * Open streams end when the rights behind them do: a WebSocket or SSE stream whose token is
 * revoked (through the API, or straight in the database as the CLI does) or whose principal
 * loses the role on the workflow is closed with a code saying which — and delivers nothing
 * after, gate comments included. Real server on loopback, real sockets.
 */
import { createToken, revokeToken } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { gateWorkflow, json, startTestServer, type TestServer } from './helpers.ts';

let t: TestServer;
let base: string;
let wf: string;

beforeAll(async () => {
  // A short period so the database-only revocation is seen quickly; the default is 2 s.
  t = await startTestServer({ streamAccessCheckMs: 200 });
  base = await t.server.app.listen({ port: 0, host: '127.0.0.1' });
  wf = json(await t.request('POST', '/api/v1/workflows', { body: gateWorkflow('watched') })).id;
  await t.request('PUT', `/api/v1/workflows/${wf}/permissions`, {
    body: [
      { principal: 'alice', role: 'owner' },
      { principal: 'bob', role: 'viewer' },
    ],
  });
});
afterAll(async () => {
  await t.close();
});

async function waitingRun(): Promise<string> {
  const { id } = json(await t.request('POST', `/api/v1/workflows/${wf}/run`, { body: {} }));
  await t.engine.waitForRun(id, { orWaiting: true });
  return id;
}

interface Watched {
  ws: WebSocket;
  types: string[];
  closed: Promise<{ code: number; reason: string }>;
}

function watchWs(runId: string, token: string, viaQuery = false): Promise<Watched> {
  const url = `${base.replace('http', 'ws')}/api/v1/ws/workflow_runs/${runId}${viaQuery ? `?token=${token}` : ''}`;
  const ws = new WebSocket(url, viaQuery ? {} : { headers: { authorization: `Bearer ${token}` } });
  const types: string[] = [];
  ws.on('message', (d) => {
    const m = JSON.parse(String(d)) as { kind: string; event?: { type: string } };
    types.push(m.event?.type ?? m.kind);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  return new Promise((resolve, reject) => {
    ws.on('open', () => resolve({ ws, types, closed }));
    ws.on('unexpected-response', (_q, res) => reject(new Error(`status ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('open streams re-check access', () => {
  it('a WebSocket whose token is revoked through the API closes with 4401 and delivers nothing after', async () => {
    const run = await waitingRun();
    const { token, info } = await createToken(t.handle.db, { principal: 'bob', name: 'watcher' });
    const w = await watchWs(run, token, true);
    await until(() => w.types.includes('node.waiting'));
    expect((await t.request('DELETE', `/api/v1/tokens/${info.id}`, { token: t.tokens.admin })).statusCode).toBe(204);
    const { code, reason } = await w.closed;
    expect(code).toBe(4401);
    expect(reason).toMatch(/access ended: the token of this stream was revoked/);
    const comment = await t.request('POST', `/api/v1/workflow_runs/${run}/nodes/approve/approve`, {
      body: { comment: 'secret plan' },
    });
    expect(comment.statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    expect(w.types).not.toContain('gate.approved');
  });

  it('a token revoked straight in the database (as the CLI does) ends the stream at the next check', async () => {
    const run = await waitingRun();
    const { token, info } = await createToken(t.handle.db, { principal: 'bob', name: 'cli-revoked' });
    const w = await watchWs(run, token);
    await until(() => w.types.includes('node.waiting'));
    await revokeToken(t.handle.db, info.id);
    expect((await w.closed).code).toBe(4401);
  });

  it('losing the role on the workflow closes the WebSocket with 4403', async () => {
    const run = await waitingRun();
    const w = await watchWs(run, t.tokens.bob);
    await until(() => w.types.includes('node.waiting'));
    await t.request('PUT', `/api/v1/workflows/${wf}/permissions`, { body: [{ principal: 'alice', role: 'owner' }] });
    try {
      const { code, reason } = await w.closed;
      expect(code).toBe(4403);
      expect(reason).toMatch(/'bob' no longer has viewer or above on workflow/);
    } finally {
      await t.request('PUT', `/api/v1/workflows/${wf}/permissions`, {
        body: [
          { principal: 'alice', role: 'owner' },
          { principal: 'bob', role: 'viewer' },
        ],
      });
    }
  });

  it('an SSE stream ends with an `event: close` frame naming the code', async () => {
    const run = await waitingRun();
    const { token, info } = await createToken(t.handle.db, { principal: 'bob', name: 'sse' });
    const res = await fetch(`${base}/api/v1/workflow_runs/${run}/events`, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const decoder = new TextDecoder();
    const read = async (until: (s: string) => boolean) => {
      while (!until(text)) {
        const { done, value } = await reader.read();
        if (done) return;
        text += decoder.decode(value, { stream: true });
      }
    };
    await read((s) => s.includes('event: node.waiting'));
    await t.request('DELETE', `/api/v1/tokens/${info.id}`, { token: t.tokens.admin });
    await read(() => false);
    expect(text).toMatch(/event: close\ndata: \{"code":"TOKEN_REVOKED","reason":"access ended: [^"]+"\}/);
  });

  it("an admin token's stream ends when it is revoked, though the principal keeps a plain token", async () => {
    const run = await waitingRun();
    const admin = await createToken(t.handle.db, { principal: 'mallory', admin: true });
    await createToken(t.handle.db, { principal: 'mallory' });
    const w = await watchWs(run, admin.token);
    await until(() => w.types.includes('node.waiting'));
    await t.request('DELETE', `/api/v1/tokens/${admin.info.id}`, { token: t.tokens.admin });
    expect((await w.closed).code).toBe(4401);
  });

  it('streams whose access holds stay open', async () => {
    const run = await waitingRun();
    const w = await watchWs(run, t.tokens.bob);
    await until(() => w.types.includes('node.waiting'));
    await t.server.ctx.streamAccess.checkNow();
    await t.server.ctx.streamAccess.checkNow();
    expect(w.ws.readyState).toBe(WebSocket.OPEN);
    w.ws.close();
    await w.closed;
  });
});
