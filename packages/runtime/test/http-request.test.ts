import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CostReport, ExecutorContext, NodeDefinition } from '@trellis/core';
import { TrellisError } from '@trellis/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpRequestExecutor, parseRetryAfter } from '../src/executors/http-request.ts';
import { createOutboundGuard, LOOPBACK_ALLOW_HOSTS } from '../src/outbound/index.ts';

function context(overrides: Partial<ExecutorContext> = {}): ExecutorContext {
  const costs: CostReport[] = [];
  const node: NodeDefinition = { id: 'call', type: 'tool_call', tool: 'http.request' };
  return {
    runId: 'run1',
    nodeId: 'call',
    attempt: 2,
    idempotencyKey: 'run1:call:2',
    signal: new AbortController().signal,
    node,
    scope: {},
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    reportCost: (c) => costs.push(c),
    renderTemplate: async (t) => t,
    evaluate: async () => undefined,
    remoteRef: undefined,
    saveRemoteRef: async () => {},
    decision: undefined,
    ...overrides,
  };
}

let server: Server;
let base: string;
const guard = createOutboundGuard({ allowHosts: LOOPBACK_ALLOW_HOSTS });
const exec = createHttpRequestExecutor({ guard, maxResponseBytes: 1000 });

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const status = Number(url.searchParams.get('status') ?? 200);
      if (url.pathname === '/slow') {
        setTimeout(() => res.end('late'), 2000).unref();
        return;
      }
      if (url.pathname === '/text') {
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end('plain words');
        return;
      }
      if (url.pathname === '/big') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('x'.repeat(5000));
        return;
      }
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
      if (url.searchParams.has('retryAfter')) headers['retry-after'] = url.searchParams.get('retryAfter') as string;
      res.writeHead(status, headers);
      res.end(JSON.stringify({ method: req.method, headers: req.headers, body }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.close();
  await guard.close();
});

async function failure(p: Promise<unknown>): Promise<TrellisError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TrellisError);
  return err as TrellisError;
}

describe('http.request', () => {
  it('sends method, headers, a JSON body and the idempotency key; parses JSON', async () => {
    const result = await exec.execute({ method: 'post', url: `${base}/echo`, headers: { 'x-n': 7 }, body: { a: 1 } }, context());
    expect(result.kind).toBe('succeeded');
    const out = (
      result as {
        output: {
          status: number;
          headers: Record<string, string>;
          body: { method: string; headers: Record<string, string>; body: string };
        };
      }
    ).output;
    expect(out.status).toBe(200);
    expect(out.headers['content-type']).toContain('application/json');
    expect(out.body.method).toBe('POST');
    expect(out.body.headers['idempotency-key']).toBe('run1:call:2');
    expect(out.body.headers['x-n']).toBe('7');
    expect(out.body.headers['content-type']).toBe('application/json');
    expect(JSON.parse(out.body.body)).toEqual({ a: 1 });
  });

  it('keeps a non-JSON body as text', async () => {
    const result = await exec.execute({ url: `${base}/text` }, context());
    expect(result).toMatchObject({ kind: 'succeeded', output: { status: 200, body: 'plain words' } });
  });

  it('classifies 5xx and 429 as retryable (Retry-After honoured), 4xx as not', async () => {
    const e503 = await failure(exec.execute({ url: `${base}/?status=503` }, context()));
    expect(e503.code).toBe('HTTP_503');
    expect(e503.retryable).toBe(true);
    const e429 = await failure(exec.execute({ url: `${base}/?status=429&retryAfter=3` }, context()));
    expect(e429).toMatchObject({ code: 'HTTP_429', retryable: true, retryAfterMs: 3000 });
    const e404 = await failure(exec.execute({ url: `${base}/?status=404` }, context()));
    expect(e404).toMatchObject({ code: 'HTTP_404', retryable: false });
    expect(e404.message).toContain('404');
  });

  it('times out with a retryable TIMEOUT and aborts on cancellation', async () => {
    const t = await failure(exec.execute({ url: `${base}/slow`, timeoutMs: 100 }, context()));
    expect(t).toMatchObject({ code: 'TIMEOUT', retryable: true });

    const ac = new AbortController();
    const p = exec.execute({ url: `${base}/slow` }, context({ signal: ac.signal }));
    setTimeout(() => ac.abort(), 50);
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as Error).name).toBe('AbortError');
  });

  it('reports a connection failure as a retryable NETWORK_ERROR', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const e = await failure(exec.execute({ url: `http://127.0.0.1:${port}/` }, context()));
    expect(e).toMatchObject({ code: 'NETWORK_ERROR', retryable: true });
  });

  it('goes through the outbound guard', async () => {
    const strict = createHttpRequestExecutor({ guard: createOutboundGuard() });
    const e = await failure(strict.execute({ url: `${base}/echo` }, context()));
    expect(e).toMatchObject({ code: 'OUTBOUND_BLOCKED', retryable: false });
  });

  it('rejects bad input and oversized bodies with clear errors', async () => {
    const bad = await failure(exec.execute({ url: 42, method: 'FETCH' }, context()));
    expect(bad.code).toBe('INPUT_INVALID');
    expect(bad.message).toMatch(/url/);
    const big = await failure(exec.execute({ url: `${base}/big` }, context()));
    expect(big.code).toBe('OUTPUT_TOO_LARGE');
  });

  it('parses Retry-After as seconds or a date', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
