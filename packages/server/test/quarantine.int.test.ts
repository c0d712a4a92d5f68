/**
 * Crash loops end: the real `trellis serve` process is killed (SIGKILL) while a node is in
 * flight, three times in a row; the fourth start fails that node with CRASHED instead of
 * running it again, and the server keeps serving. The port opens before recovery starts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRELLIS } from '../../cli/test/helpers/bin.ts';

const ADMIN = 'quarantine-admin-token-0123456789abcdef';
const children: ChildProcess[] = [];
/** Idempotency keys of the requests the hanging endpoint received (one per attempt). */
const keys: string[] = [];
let target: Server;
let targetUrl: string;

beforeAll(async () => {
  // Never answers: the node stays in flight until its process is killed.
  target = createServer((req) => {
    keys.push(String(req.headers['idempotency-key']));
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
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 60_000);
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

const until = async (pred: () => boolean | Promise<boolean>, ms = 60_000) => {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

async function kill(child: ChildProcess): Promise<void> {
  child.kill('SIGKILL');
  if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
}

describe('poison-run quarantine through real restarts', () => {
  it('a node in flight at 3 crashes in a row fails with CRASHED; the server stays up', { timeout: 240_000 }, async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'trellis-quarantine-')), 'trellis.db');
    let server = await serve(db);
    const wf = await api(server.url, 'POST', '/workflows', {
      name: 'poison',
      nodes: [
        {
          id: 'stuck',
          type: 'tool_call',
          tool: 'http.request',
          input: { url: `${targetUrl}/hang` },
          // Retries are allowed: only the quarantine stops the loop.
          retry: { maxAttempts: 10, initialDelayMs: 10 },
        },
      ],
      edges: [],
    });
    expect(wf.status).toBe(201);
    const run = await api(server.url, 'POST', `/workflows/${wf.body.id}/run`, { input: {} });
    expect(run.status).toBe(201);
    const runId: string = run.body.id;

    for (let attempt = 1; attempt <= 3; attempt++) {
      await until(() => keys.includes(`${runId}:stuck:${attempt}`));
      await kill(server.child);
      server = await serve(db);
    }
    // biome-ignore lint/suspicious/noExplicitAny: reads arbitrary response JSON
    let rec: any;
    await until(async () => {
      rec = (await api(server.url, 'GET', `/workflow_runs/${runId}`)).body;
      return rec.status === 'failed';
    });
    expect(rec.nodes.stuck.status).toBe('failed');
    expect(rec.nodes.stuck.error.code).toBe('CRASHED');
    expect(rec.nodes.stuck.error.message).toMatch(/stopped 3 times in a row while this node was running/);
    expect(rec.error.code).toBe('CRASHED');
    // Not run a fourth time.
    expect(keys.filter((k) => k.startsWith(runId))).toEqual([1, 2, 3].map((a) => `${runId}:stuck:${a}`));
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(server.child.exitCode).toBeNull();
  });
});
