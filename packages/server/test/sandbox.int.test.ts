/**
 * A hostile plain user against the real `trellis serve` process: expressions that used to kill
 * the process (V8 fatal "invalid size") or hold its event loop now fail only their node, and
 * the server keeps answering.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRELLIS } from '../../cli/test/helpers/bin.ts';

const ADMIN = 'sandbox-admin-token-0123456789abcdef';
const children: ChildProcess[] = [];

async function serve(db: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [...TRELLIS, 'serve', '--port', '0', '--db', db], {
    env: { ...process.env, TRELLIS_ADMIN_TOKEN: ADMIN, TRELLIS_LOG_LEVEL: 'warn', ...env },
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
type Json = any;

async function api(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function finished(url: string, token: string, runId: string): Promise<Json> {
  const end = Date.now() + 30_000;
  for (;;) {
    const rec = (await api(url, token, 'GET', `/workflow_runs/${runId}`)).body;
    if (['succeeded', 'failed', 'cancelled'].includes(rec.status)) return rec;
    if (Date.now() > end) throw new Error(`run ${runId} still ${rec.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let server: { child: ChildProcess; url: string };
let mallory: string;

beforeAll(async () => {
  server = await serve(join(mkdtempSync(join(tmpdir(), 'trellis-sandbox-')), 'trellis.db'), {
    TRELLIS_EXPRESSION_TIMEOUT_MS: '500',
  });
  const made = await api(server.url, ADMIN, 'POST', '/tokens', { principal: 'mallory' });
  expect(made.status).toBe(201);
  mallory = made.body.token;
  expect((await api(server.url, mallory, 'GET', '/me')).body.isAdmin).toBe(false);
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('hostile expressions from a plain user', () => {
  const cases = [
    ['transform $length($pad("x", 140000000))', { type: 'transform', expression: '$length($pad("x", 140000000))' }],
    [
      "transform $count($split($pad('x', 140000000), ''))",
      { type: 'transform', expression: "$count($split($pad('x', 140000000), ''))" },
    ],
    [
      'catastrophic regex in a condition',
      { type: 'condition', expression: "$contains('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', /^(a+)+$/)" },
    ],
    [
      'runaway loop in an input template',
      { type: 'parallel', input: { x: '{{ ($f := function($n) { $f($n + 1) + 1 }; $f(0)) }}' } },
    ],
  ] as const;

  it.each(cases)('%s: the node fails with EXPRESSION_ERROR, the server stays up', async (_name, body) => {
    const wf = await api(server.url, mallory, 'POST', '/workflows', {
      name: `hostile-${Math.random().toString(36).slice(2)}`,
      nodes: [{ id: 'evil', ...body }],
      edges: [],
    });
    expect(wf.status).toBe(201);
    const run = await api(server.url, mallory, 'POST', `/workflows/${wf.body.id}/run`, { input: {} });
    expect(run.status).toBe(201);
    const rec = await finished(server.url, mallory, run.body.id);
    expect(rec.status).toBe('failed');
    expect(rec.nodes.evil.error.code).toBe('EXPRESSION_ERROR');
    expect(rec.nodes.evil.error.message).toMatch(/limit/);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(server.child.exitCode).toBeNull();
  });

  it('an ordinary workflow still runs afterwards', async () => {
    const wf = await api(server.url, mallory, 'POST', '/workflows', {
      name: 'ordinary',
      nodes: [
        { id: 'a', type: 'transform', expression: "{ 'n': $count($context.items) }" },
        { id: 'b', type: 'condition', expression: '$a.n > 1' },
      ],
      edges: [{ from: 'a', to: 'b' }],
    });
    const run = await api(server.url, mallory, 'POST', `/workflows/${wf.body.id}/run`, { input: { items: [1, 2, 3] } });
    const rec = await finished(server.url, mallory, run.body.id);
    expect(rec.status).toBe('succeeded');
    expect(rec.nodes.b.output).toEqual({ value: true });
  });
});
