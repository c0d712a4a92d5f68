/**
 * Server benchmarks (issue 4), against a real `trellis serve` child process on loopback, on a
 * SQLite file, with clients in this process:
 *  1. POST /workflows/:id/run → the run's first `node.started` (commit time, and delivery to a
 *     WebSocket client that connects after the 201), p50 / p99;
 *  2. WebSocket delivery latency (event commit → client receipt) with 100 subscribers on one run;
 *  3. requests per second for GET /workflow_runs/:id (keep-alive, 32 concurrent connections);
 *  4. server CPU per unauthenticated request carrying a 2 MB hostile body (1,000,000 nested
 *     brackets): authentication runs before the body is read, so a stranger costs little.
 *
 *   npx tsx bench/server.ts [--quick] [--strangers-only]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import WebSocket from 'ws';
import { machineLoad, printTable, type Row, writeResults } from './lib/report.ts';

const quick = process.argv.includes('--quick');
const strangersOnly = process.argv.includes('--strangers-only');
const TOKEN = 'bench-admin-token-0123456789abcdef';
const BIN = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'trellis.mjs');

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

async function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const db = join(mkdtempSync(join(tmpdir(), 'trellis-bench-srv-')), 'trellis.db');
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--db', db], {
    env: {
      ...process.env,
      TRELLIS_ADMIN_TOKEN: TOKEN,
      TRELLIS_LOG_LEVEL: 'warn',
      TRELLIS_ALLOW_HOSTS: '127.0.0.1',
      // The bench measures the server, not the per-token rate limit.
      TRELLIS_RATE_LIMIT: '100000000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d) => {
      out += String(d);
      const m = /serving at (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
  return { child, url };
}

// biome-ignore lint/suspicious/noExplicitAny: reads arbitrary response JSON
async function api(url: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

type Msg = { kind: 'event'; event: { seq: number; type: string; at: string } } | { kind: 'end' };

function watch(url: string, runId: string, onMsg: (m: Msg, receivedAt: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/api/v1/ws/workflow_runs/${runId}?after=0`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    ws.on('message', (d) => onMsg(JSON.parse(String(d)) as Msg, Date.now()));
    ws.on('close', () => resolve());
    ws.on('error', reject);
  });
}

const transforms = (n: number) => ({
  nodes: Array.from({ length: n }, (_, i) => ({ id: `t${i}`, type: 'transform', expression: `{ 'step': ${i} }` })),
  edges: Array.from({ length: n - 1 }, (_, i) => ({ from: `t${i}`, to: `t${i + 1}` })),
});

async function startLatency(url: string, runs: number): Promise<Row[]> {
  const wf = await api(url, 'POST', '/workflows', { name: 'bench-start', ...transforms(3) });
  const commit: number[] = [];
  const delivered: number[] = [];
  for (let i = 0; i < runs + 5; i++) {
    const t0 = Date.now();
    const run = await api(url, 'POST', `/workflows/${wf.id}/run`, {});
    let seen = 0;
    let started = 0;
    await watch(url, run.id, (m, at) => {
      if (m.kind === 'event' && m.event.type === 'node.started' && !started) {
        started = Date.parse(m.event.at);
        seen = at;
      }
    });
    if (i >= 5) {
      commit.push(started - t0);
      delivered.push(seen - t0);
    }
  }
  return [
    { measure: 'POST run → node.started committed', runs, p50_ms: percentile(commit, 50), p99_ms: percentile(commit, 99) },
    {
      measure: 'POST run → node.started on a WebSocket',
      runs,
      p50_ms: percentile(delivered, 50),
      p99_ms: percentile(delivered, 99),
    },
  ];
}

/** Nodes that call a local HTTP endpoint answering after `delayMs`: events arrive paced, as in real runs. */
function pacedCalls(n: number, target: string) {
  return {
    nodes: Array.from({ length: n }, (_, i) => ({
      id: `t${i}`,
      type: 'tool_call',
      tool: 'http.request',
      input: { url: `${target}/?i=${i}` },
    })),
    edges: Array.from({ length: n - 1 }, (_, i) => ({ from: `t${i}`, to: `t${i + 1}` })),
  };
}

async function fanoutLatency(url: string, subscribers: number, nodes: number, paced?: string): Promise<Row[]> {
  const def = paced ? pacedCalls(nodes, paced) : transforms(nodes);
  def.nodes.unshift({ id: 'gate', type: 'human_gate', prompt: 'go?' } as never);
  def.edges.unshift({ from: 'gate', to: 't0' });
  const wf = await api(url, 'POST', '/workflows', { name: 'bench-fanout', ...def });
  const run = await api(url, 'POST', `/workflows/${wf.id}/run`, {});
  const lat: number[] = [];
  let gateSeq = 0;
  const readyAll: Promise<void>[] = [];
  const done: Promise<void>[] = [];
  for (let i = 0; i < subscribers; i++) {
    let ready!: () => void;
    readyAll.push(new Promise((r) => (ready = r)));
    done.push(
      watch(url, run.id, (m, at) => {
        if (m.kind !== 'event') return;
        if (m.event.type === 'node.waiting') {
          gateSeq = m.event.seq;
          ready();
        } else if (gateSeq && m.event.seq > gateSeq) lat.push(at - Date.parse(m.event.at));
      }),
    );
  }
  await Promise.all(readyAll);
  await api(url, 'POST', `/workflow_runs/${run.id}/nodes/gate/approve`, {});
  await Promise.all(done);
  return [
    {
      measure: `WS delivery, ${subscribers} subscribers, one run, ${paced ? 'paced events (a node per 20 ms)' : 'burst (transforms)'}`,
      deliveries: lat.length,
      p50_ms: percentile(lat, 50),
      p99_ms: percentile(lat, 99),
      max_ms: Math.max(...lat),
    },
  ];
}

async function getThroughput(url: string, seconds: number, connections: number): Promise<Row[]> {
  const wf = await api(url, 'POST', '/workflows', { name: 'bench-get', ...transforms(5) });
  const run = await api(url, 'POST', `/workflows/${wf.id}/run`, {});
  await new Promise((r) => setTimeout(r, 200));
  const pool = new Pool(url, { connections, pipelining: 1 });
  const path = `/api/v1/workflow_runs/${run.id}`;
  let ok = 0;
  let failed = 0;
  const lat: number[] = [];
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < end) {
        const t = performance.now();
        const res = await pool.request({ path, method: 'GET', headers: { authorization: `Bearer ${TOKEN}` } });
        await res.body.text();
        lat.push(performance.now() - t);
        if (res.statusCode === 200) ok++;
        else failed++;
      }
    }),
  );
  await pool.close();
  return [
    {
      measure: `GET /workflow_runs/:id, ${connections} connections`,
      seconds,
      requests: ok,
      errors: failed,
      req_per_s: Math.round(ok / seconds),
      p50_ms: percentile(lat, 50),
      p99_ms: percentile(lat, 99),
    },
  ];
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux; NaN elsewhere). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/**
 * One raw HTTP/1.1 request on its own connection, as a hostile client sends it: the whole body
 * is written whatever the server answers. Resolves with the status line's code (0: none read).
 */
function rawPost(url: string, path: string, body: Buffer): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let got = '';
    socket.on('data', (d) => {
      if (got.length < 64) got += String(d);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0)));
    socket.write(
      `POST ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    );
    socket.end(body);
  });
}

async function hostileBodies(url: string, pid: number, requests: number, connections: number): Promise<Row[]> {
  const body = Buffer.from('['.repeat(1_000_000) + ']'.repeat(1_000_000));
  // The idle server's own CPU over the same time is subtracted (engine polling, timers).
  const idleFrom = cpuSeconds(pid);
  const idleT = performance.now();
  await new Promise((r) => setTimeout(r, 1000));
  const idlePerMs = (cpuSeconds(pid) - idleFrom) / (performance.now() - idleT);
  const statuses = new Map<number, number>();
  const health: number[] = [];
  let sent = 0;
  let flooding = true;
  const probe = (async () => {
    while (flooding) {
      const t = performance.now();
      await (await fetch(`${url}/healthz`)).text();
      health.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const from = cpuSeconds(pid);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (sent < requests) {
        sent++;
        const status = await rawPost(url, '/api/v1/workflows', body);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  const elapsed = performance.now() - t0;
  const used = cpuSeconds(pid) - from - idlePerMs * elapsed;
  flooding = false;
  await probe;
  return [
    {
      measure: `POST /workflows, no token, 2 MB of nested brackets, ${connections} clients`,
      requests,
      answers: [...statuses].map(([k, v]) => `${v}×${k || 'none'}`).join(' '),
      server_cpu_ms_per_req: (used * 1000) / requests,
      healthz_p50_ms: percentile(health, 50),
      healthz_p99_ms: percentile(health, 99),
    },
  ];
}

const slow = createServer((_req, res) => {
  setTimeout(() => res.end('{"ok":true}'), 20);
});
await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()));
const slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
const { child, url } = await startServer();
try {
  const results: Record<string, unknown> = { load: machineLoad() };
  if (!strangersOnly) {
    const start = await startLatency(url, quick ? 30 : 200);
    printTable('POST /run → first node.started', start);
    const fan = [
      ...(await fanoutLatency(url, 100, quick ? 10 : 40, slowUrl)),
      ...(await fanoutLatency(url, 100, quick ? 10 : 40)),
    ];
    printTable('WebSocket delivery latency (commit → client)', fan);
    const get = await getThroughput(url, quick ? 2 : 5, 32);
    printTable('Run record reads', get);
    Object.assign(results, { start, fanout: fan, get });
  }
  const hostile = await hostileBodies(url, child.pid ?? 0, quick ? 100 : 300, 4);
  printTable('Strangers: server CPU per unauthenticated request (target ≤ 1 ms)', hostile);
  results.hostile = hostile;
  const file = writeResults(strangersOnly ? 'server-strangers' : 'server', results);
  process.stdout.write(`\nwritten to ${file}\n`);
} finally {
  child.kill('SIGTERM');
  slow.close();
}
