import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { branchingWorkflow, json, startTestServer, type TestServer } from './helpers.ts';

describe('health, readiness, metrics, request ids', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  it('healthz and readyz need no token; readyz fails while draining, and so do new runs', async () => {
    expect(json(await t.request('GET', '/healthz', { token: null }))).toEqual({ status: 'ok' });
    expect((await t.request('GET', '/readyz', { token: null })).statusCode).toBe(200);
    const wf = json(await t.request('POST', '/api/v1/workflows', { body: branchingWorkflow('drain') })).id;
    t.server.ctx.draining = true;
    try {
      expect((await t.request('GET', '/readyz', { token: null })).statusCode).toBe(503);
      const run = await t.request('POST', `/api/v1/workflows/${wf}/run`, { body: {} });
      expect(run.statusCode).toBe(503);
      expect(run.headers['retry-after']).toBe('5');
    } finally {
      t.server.ctx.draining = false;
    }
  });

  it('exports Prometheus metrics: runs by status, node durations, queue depth, event lag', async () => {
    const wf = json(await t.request('POST', '/api/v1/workflows', { body: branchingWorkflow('metrics') })).id;
    const { id } = json(await t.request('POST', `/api/v1/workflows/${wf}/run`, { body: { input: { n: 1 } } }));
    await t.engine.waitForRun(id);
    await t.request('GET', `/api/v1/workflow_runs/${id}/events`, { headers: { accept: 'text/event-stream' } });
    expect((await t.request('GET', '/metrics', { token: null })).statusCode).toBe(401);
    const res = await t.request('GET', '/metrics', { token: t.tokens.bob });
    expect(res.headers['content-type']).toMatch(/text\/plain; version=0\.0\.4/);
    expect(res.body).toMatch(/^trellis_runs\{status="succeeded"\} [1-9]/m);
    expect(res.body).toMatch(/^trellis_queue_depth\{kind="runs"\} \d+/m);
    expect(res.body).toMatch(/^trellis_node_duration_seconds_count\{type="[a-z_]+"\} [1-9]/m);
    expect(res.body).toMatch(/^trellis_event_lag_seconds_count [1-9]/m);
    expect(res.body).toMatch(/^trellis_commits_total [1-9]/m);
    expect(res.body).toMatch(/^trellis_commit_fenced_runs_total 0$/m);
    expect(res.body).toMatch(/^trellis_http_requests_total\{method="POST",route="\/api\/v1\/workflows",status="201"\} [1-9]/m);
  });

  it('every response carries a request id, which problem bodies repeat', async () => {
    const res = await t.request('GET', '/api/v1/workflows/nope');
    expect(res.statusCode).toBe(404);
    expect(res.headers['x-request-id']).toMatch(/^req_/);
    expect(json(res).requestId).toBe(res.headers['x-request-id']);
    const unknown = await t.request('GET', '/api/v1/no/such/route');
    expect(unknown.statusCode).toBe(404);
    expect(json(unknown).detail).toMatch(/no route GET \/api\/v1\/no\/such\/route/);
    const ws = await t.request('GET', '/api/v1/ws/workflow_runs/x');
    expect(ws.statusCode).toBe(404);
  });

  it('a plain GET on the WebSocket endpoint of a real run answers 426', async () => {
    const wf = json(await t.request('POST', '/api/v1/workflows', { body: branchingWorkflow('ws426') })).id;
    const { id } = json(await t.request('POST', `/api/v1/workflows/${wf}/run`, { body: {} }));
    const res = await t.request('GET', `/api/v1/ws/workflow_runs/${id}`);
    expect(res.statusCode).toBe(426);
  });
});

describe('rate limit', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ limits: { requestsPerMinute: 5 } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 429 with Retry-After past the per-token budget; other tokens are unaffected', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 7; i++) codes.push((await t.request('GET', '/api/v1/workflows')).statusCode);
    expect(codes.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(codes.slice(5)).toEqual([429, 429]);
    const limited = await t.request('GET', '/api/v1/workflows');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(json(limited).code).toBe('RATE_LIMITED');
    expect((await t.request('GET', '/api/v1/workflows', { token: t.tokens.bob })).statusCode).toBe(200);
  });
});

describe('limits', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ limits: { definitionBytes: 2000, failedAuthPerMinute: 3 } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('413 for a definition over the size limit, saying the limit', async () => {
    const wf = branchingWorkflow('big');
    wf.description = 'x'.repeat(3000);
    const res = await t.request('POST', '/api/v1/workflows', { body: wf });
    expect(res.statusCode).toBe(413);
    expect(json(res).detail).toMatch(/limit is 2000 bytes/);
  });

  it('429 after repeated bad tokens from one address; good tokens still work', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 5; i++)
      codes.push((await t.request('GET', '/api/v1/workflows', { token: `bogus-token-${i}-0123456789` })).statusCode);
    expect(codes).toEqual([401, 401, 401, 429, 429]);
    expect((await t.request('GET', '/api/v1/workflows')).statusCode).toBe(200);
  });
});

describe('console files', () => {
  let t: TestServer;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-console-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Trellis console</title>');
    writeFileSync(join(dir, 'app.js'), 'console.log(1)');
    t = await startTestServer({ consoleDir: dir });
  });
  afterAll(async () => {
    await t.close();
  });

  it('serves the built console at / with SPA fallback, but never for /api paths', async () => {
    expect((await t.request('GET', '/', { token: null })).body).toContain('Trellis console');
    expect((await t.request('GET', '/app.js', { token: null })).body).toContain('console.log');
    const deep = await t.request('GET', '/runs/abc', { token: null });
    expect(deep.statusCode).toBe(200);
    expect(deep.body).toContain('Trellis console');
    const api = await t.request('GET', '/api/v1/nothing', { token: null });
    expect(api.statusCode).toBe(404);
    expect(api.headers['content-type']).toMatch(/problem\+json/);
  });
});
