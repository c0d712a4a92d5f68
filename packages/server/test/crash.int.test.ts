/**
 * Durability through the real `trellis serve` process: SIGKILL it while a node's HTTP call is in
 * flight, start it again on the same database, and the run completes — with no succeeded node
 * executed twice. The nodes call an HTTP server in this test process that counts every request.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRELLIS } from '../../cli/test/helpers/bin.ts';

const ADMIN = 'crash-admin-token-0123456789abcdef';
const calls: { name: string; key: string }[] = [];
let target: Server;
let targetUrl: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  target = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const name = url.searchParams.get('name') ?? '?';
    calls.push({ name, key: String(req.headers['idempotency-key']) });
    const delay = url.pathname === '/slow' ? 1500 : 0;
    setTimeout(() => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name }));
    }, delay);
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
  targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  target.closeAllConnections();
  await new Promise((r) => target.close(r));
});

async function serve(db: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [...TRELLIS, 'serve', '--port', '0', '--db', db], {
    env: { ...process.env, TRELLIS_ADMIN_TOKEN: ADMIN, TRELLIS_ALLOW_HOSTS: '127.0.0.1', TRELLIS_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000);
    child.stdout?.on('data', (d) => {
      out += String(d);
      const m = /serving at (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    });
    child.stderr?.on('data', (d) => {
      out += String(d);
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
  });
  return { child, url };
}

// biome-ignore lint/suspicious/noExplicitAny: reads arbitrary response JSON
async function api(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const until = async (pred: () => boolean | Promise<boolean>, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('SIGKILL mid-run', () => {
  it('the restarted server completes the run and no succeeded node runs twice', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'trellis-crash-')), 'trellis.db');
    const first = await serve(db);
    const http = (name: string, path = '/step') => ({
      id: name,
      type: 'tool_call',
      tool: 'http.request',
      input: { url: `${targetUrl}${path}?name=${name}` },
      retry: { maxAttempts: 3, initialDelayMs: 100 },
    });
    const wf = await api(first.url, 'POST', '/workflows', {
      name: 'crashy',
      nodes: [http('a'), http('b', '/slow'), http('c')],
      edges: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c' },
      ],
    });
    expect(wf.status).toBe(201);
    const run = await api(first.url, 'POST', `/workflows/${wf.body.id}/run`, {});
    expect(run.status).toBe(201);
    await until(() => calls.some((c) => c.name === 'b'));
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));

    const second = await serve(db);
    // biome-ignore lint/suspicious/noExplicitAny: reads arbitrary response JSON
    let final: any;
    await until(async () => {
      final = (await api(second.url, 'GET', `/workflow_runs/${run.body.id}`)).body;
      return ['succeeded', 'failed', 'cancelled'].includes(final.status);
    });
    expect(final.status).toBe('succeeded');
    expect(calls.filter((c) => c.name === 'a')).toHaveLength(1);
    expect(calls.filter((c) => c.name === 'c')).toHaveLength(1);
    const b = calls.filter((c) => c.name === 'b');
    expect(b.length).toBeGreaterThanOrEqual(1);
    expect(new Set(b.map((c) => c.key)).size).toBe(b.length);
    expect(final.nodes.a.attempts).toHaveLength(1);
    expect(final.output).toMatchObject({ c: { status: 200, body: { name: 'c' } } });
    second.child.kill('SIGTERM');
    expect(await new Promise((r) => second.child.once('exit', r))).toBe(0);
  }, 90_000);
});
