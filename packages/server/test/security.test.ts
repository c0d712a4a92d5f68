/**
 * Rights end when taken away, strangers are refused cheaply: admin lives on the token, limits
 * count per principal, templates need an editor, authentication runs before the body is read,
 * `?token=` only where a browser needs it and never in a log line, /metrics needs a token, and
 * every response carries the browser security headers.
 */
import { Writable } from 'node:stream';
import { generateToken, upsertBuiltinTemplates } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactUrl } from '../src/app.ts';
import { branchingWorkflow, json, startTestServer, type TestServer } from './helpers.ts';

describe('administration ends with the admin token', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  it("revoking a principal's admin token leaves its other tokens plain users", async () => {
    const adminMade = json(
      await t.request('POST', '/api/v1/tokens', { token: t.tokens.admin, body: { principal: 'mallory', admin: true } }),
    );
    const plain = json(await t.request('POST', '/api/v1/tokens', { token: t.tokens.admin, body: { principal: 'mallory' } }));
    expect(json(await t.request('GET', '/api/v1/me', { token: adminMade.token }))).toMatchObject({ isAdmin: true });
    // Admin was never the user's: the plain token is plain even while the admin token lives.
    expect(json(await t.request('GET', '/api/v1/me', { token: plain.token }))).toMatchObject({
      name: 'mallory',
      isAdmin: false,
    });
    expect((await t.request('DELETE', `/api/v1/tokens/${adminMade.info.id}`, { token: t.tokens.admin })).statusCode).toBe(204);
    expect((await t.request('GET', '/api/v1/me', { token: adminMade.token })).statusCode).toBe(401);
    expect(json(await t.request('GET', '/api/v1/me', { token: plain.token }))).toMatchObject({ isAdmin: false });
    const listed = json(await t.request('GET', '/api/v1/tokens', { token: plain.token }));
    expect(new Set(listed.items.map((x: { principal: string }) => x.principal))).toEqual(new Set(['mallory']));
    expect((await t.request('POST', '/api/v1/tokens', { token: plain.token, body: { admin: true } })).statusCode).toBe(403);
  });
});

describe('templates: editors publish, authors and admins delete', () => {
  let t: TestServer;
  let wf: string;
  beforeAll(async () => {
    t = await startTestServer();
    wf = json(await t.request('POST', '/api/v1/workflows', { body: branchingWorkflow('tpl-source') })).id;
    await t.request('PUT', `/api/v1/workflows/${wf}/permissions`, {
      body: [
        { principal: 'alice', role: 'owner' },
        { principal: 'bob', role: 'viewer' },
        { principal: 'carol', role: 'editor' },
      ],
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('a viewer cannot publish a workflow as a template; an editor can', async () => {
    const byViewer = await t.request('POST', '/api/v1/templates', { token: t.tokens.bob, body: { workflowId: wf } });
    expect(byViewer.statusCode).toBe(403);
    expect(json(byViewer).detail).toMatch(/bob' is viewer .* needs editor/);
    const byEditor = await t.request('POST', '/api/v1/templates', { token: t.tokens.carol, body: { workflowId: wf } });
    expect(byEditor.statusCode).toBe(201);
    expect(json(byEditor).createdBy).toBe('carol');
  });

  it('only the author or an administrator deletes a template; built-in ones are not deleted', async () => {
    const mk = async (token: string) =>
      json(await t.request('POST', '/api/v1/templates', { token, body: { workflowId: wf, name: `t-${Math.random()}` } })).id;
    const carols = await mk(t.tokens.carol);
    const denied = await t.request('DELETE', `/api/v1/templates/${carols}`, { token: t.tokens.bob });
    expect(denied.statusCode).toBe(403);
    expect(json(denied).detail).toMatch(/published by 'carol'/);
    expect((await t.request('DELETE', `/api/v1/templates/${carols}`, { token: t.tokens.alice })).statusCode).toBe(403);
    expect((await t.request('DELETE', `/api/v1/templates/${carols}`, { token: t.tokens.carol })).statusCode).toBe(204);
    expect((await t.request('DELETE', `/api/v1/templates/${carols}`, { token: t.tokens.carol })).statusCode).toBe(404);
    const another = await mk(t.tokens.carol);
    expect((await t.request('DELETE', `/api/v1/templates/${another}`, { token: t.tokens.admin })).statusCode).toBe(204);
    const listed = json(await t.request('GET', '/api/v1/templates')).items.map((x: { id: string }) => x.id);
    expect(listed).not.toContain(carols);
    expect(listed).not.toContain(another);
    await upsertBuiltinTemplates(t.handle.db, [{ key: 'x', name: 'x', description: null, definition: branchingWorkflow('x') }]);
    expect((await t.request('DELETE', '/api/v1/templates/tpl_builtin_x', { token: t.tokens.admin })).statusCode).toBe(409);
  });
});

describe('request limits count per principal, not per token', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ limits: { requestsPerMinute: 4 } });
  });
  afterAll(async () => {
    await t.close();
  });

  it("a second token of the same principal shares the first one's budget", async () => {
    const second = json(await t.request('POST', '/api/v1/tokens', { body: { name: 'second' } })).token;
    const codes: number[] = [];
    for (let i = 0; i < 2; i++) codes.push((await t.request('GET', '/api/v1/workflows')).statusCode);
    for (let i = 0; i < 2; i++) codes.push((await t.request('GET', '/api/v1/workflows', { token: second })).statusCode);
    // 1 (token creation) + 2 + 1 = 4 allowed; the fifth request of alice, on either token, is refused.
    expect(codes).toEqual([200, 200, 200, 429]);
    const limited = await t.request('GET', '/api/v1/workflows', { token: second });
    expect(json(limited).detail).toMatch(/too many requests for 'alice' \(all its tokens together\)/);
    expect((await t.request('GET', '/api/v1/workflows', { token: t.tokens.bob })).statusCode).toBe(200);
  });
});

describe('strangers are refused before their body is read', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ limits: { failedAuthPerMinute: 6 } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('no token: 401 without parsing the body — not 400 for malformed JSON nor 413 for a huge one', async () => {
    const nested = '['.repeat(1_000_000) + ']'.repeat(1_000_000);
    const huge = await t.request('POST', '/api/v1/workflows', {
      token: null,
      body: nested,
      headers: { 'content-type': 'application/json' },
    });
    expect(huge.statusCode).toBe(401);
    const tooBig = await t.request('POST', '/api/v1/workflows', {
      token: null,
      body: 'x'.repeat(3 * 1024 * 1024),
      headers: { 'content-type': 'application/json' },
    });
    expect(tooBig.statusCode).toBe(401);
    const badToken = await t.request('POST', '/api/v1/workflows/validate', {
      token: 'not-a-real-token-0123456789',
      body: '{"broken":',
      headers: { 'content-type': 'application/json' },
    });
    expect(badToken.statusCode).toBe(401);
    // An unknown route is refused before its body too.
    const unknown = await t.request('POST', '/api/v1/no/such/route', {
      token: null,
      body: '{"broken":',
      headers: { 'content-type': 'application/json' },
    });
    expect(unknown.statusCode).toBe(404);
  });

  it('a token with non-ASCII characters is a 401, and requests without a valid token count toward the address limit', async () => {
    const good = generateToken();
    const nonAscii = `${good.slice(0, -1)}é`;
    const res = await t.request('GET', '/api/v1/workflows', { token: nonAscii });
    expect(res.statusCode).toBe(401);
    expect(json(res).code).toBe('UNAUTHORIZED');
    // 3 requests above + this one; missing tokens count as bad ones.
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await t.request('GET', '/api/v1/workflows', { token: null })).statusCode);
    expect(codes).toEqual([401, 401, 429, 429]);
    expect((await t.request('GET', '/api/v1/workflows')).statusCode).toBe(200);
  });
});

describe('?token= only on streams, and never in a log line', () => {
  let t: TestServer;
  const lines: string[] = [];
  beforeAll(async () => {
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    t = await startTestServer({ logger: { level: 'info', stream } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses a query token on an ordinary route, saying where the token goes', async () => {
    const res = await t.request('GET', `/api/v1/workflows?token=${t.tokens.alice}`, { token: null });
    expect(res.statusCode).toBe(401);
    expect(json(res).detail).toMatch(/Authorization: Bearer .*only by WebSocket and event-stream/);
    const spelled = await t.request('GET', `/api/v1/workflows?%74oken=${t.tokens.alice}`, { token: null });
    expect(spelled.statusCode).toBe(401);
  });

  it('accepts it on an event stream (EventSource cannot send headers)', async () => {
    const wf = json(await t.request('POST', '/api/v1/workflows', { body: branchingWorkflow('qt') })).id;
    const { id } = json(await t.request('POST', `/api/v1/workflows/${wf}/run`, { body: { input: { n: 1 } } }));
    await t.engine.waitForRun(id);
    const sse = await t.request('GET', `/api/v1/workflow_runs/${id}/events?%74oken=${t.tokens.alice}`, {
      token: null,
      headers: { accept: 'text/event-stream' },
    });
    expect(sse.statusCode).toBe(200);
    expect(sse.body).toContain('event: run.succeeded');
    // The same URL without the event-stream Accept is an ordinary request: refused.
    const plain = await t.request('GET', `/api/v1/workflow_runs/${id}/events?token=${t.tokens.alice}`, { token: null });
    expect(plain.statusCode).toBe(401);
  });

  it('redacts the token from logged URLs whatever its spelling', async () => {
    expect(redactUrl('/x?after=1&token=abc')).toBe('/x?after=1&token=[redacted]');
    expect(redactUrl('/x?%74oken=abc&a=1')).toBe('/x?%74oken=[redacted]&a=1');
    expect(redactUrl('/x?TOKEN=abc')).toBe('/x?TOKEN=[redacted]');
    expect(redactUrl('/x?to%6Ben=abc')).toBe('/x?to%6Ben=[redacted]');
    expect(redactUrl('/x?%E0%A4%A=abc')).toBe('/x?%E0%A4%A=[redacted]');
    expect(redactUrl('/x?tokens=1&a=token')).toBe('/x?tokens=1&a=token');
    const secret = t.tokens.bob;
    await t.request('GET', `/api/v1/workflows?%74oken=${secret}`, { token: null });
    await t.request('GET', `/api/v1/workflows?to%6ben=${secret}&x=1`, { token: null });
    const logged = lines.join('');
    expect(logged).toContain('%74oken=[redacted]');
    expect(logged).not.toContain(secret);
  });
});

describe('/metrics access', () => {
  it('needs a token unless the server was started with public metrics', async () => {
    const closed = await startTestServer();
    const open = await startTestServer({ publicMetrics: true });
    try {
      expect((await closed.request('GET', '/metrics', { token: null })).statusCode).toBe(401);
      expect((await closed.request('GET', '/metrics', { token: 'bogus-token-0123456789' })).statusCode).toBe(401);
      expect((await closed.request('GET', '/metrics', { token: closed.tokens.carol })).statusCode).toBe(200);
      expect((await open.request('GET', '/metrics', { token: null })).statusCode).toBe(200);
      expect((await closed.request('GET', '/healthz', { token: null })).statusCode).toBe(200);
    } finally {
      await closed.close();
      await open.close();
    }
  });
});

describe('security headers', () => {
  let t: TestServer;
  beforeAll(async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'trellis-console-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Trellis console</title>');
    t = await startTestServer({ consoleDir: dir });
  });
  afterAll(async () => {
    await t.close();
  });

  it('the console, its client routes, the API and its docs page carry CSP, frame, sniffing and referrer headers', async () => {
    for (const url of ['/', '/runs/abc', '/api/v1/workflows', '/api/v1/docs', '/api/v1/nothing']) {
      const res = await t.request('GET', url, { token: url.startsWith('/api/v1/w') ? undefined : null });
      expect(res.headers['x-frame-options'], url).toBe('DENY');
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['referrer-policy'], url).toBe('no-referrer');
      const csp = String(res.headers['content-security-policy']);
      expect(csp, url).toContain("frame-ancestors 'none'");
      expect(csp, url).toContain("default-src 'self'");
      expect(csp, url).not.toContain("'unsafe-eval'");
    }
    const docs = await t.request('GET', '/api/v1/docs', { token: null });
    expect(String(docs.headers['content-security-policy'])).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    const console = await t.request('GET', '/', { token: null });
    expect(String(console.headers['content-security-policy'])).toContain("script-src 'self'");
  });
});
