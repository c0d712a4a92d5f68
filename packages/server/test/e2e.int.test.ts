/**
 * End to end on a real loopback port: HTTP with fetch, live events with a real WebSocket
 * client (`ws`), the real engine on a real SQLite file.
 */
import { mkdtempSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExecutorResolver } from '@trellis/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type RunningServer, type SocketMessage, startTrellisServer } from '../src/index.ts';
import { EXAMPLE_OPTIONS } from './examples.ts';
import { branchingWorkflow, echoTool, gateWorkflow } from './helpers.ts';

const ADMIN = 'e2e-admin-token-0123456789abcdef';
let srv: RunningServer;
let wsBase: string;

beforeAll(async () => {
  srv = await startTrellisServer({
    db: join(mkdtempSync(join(tmpdir(), 'trellis-e2e-')), 'trellis.db'),
    host: '127.0.0.1',
    port: 0,
    ...EXAMPLE_OPTIONS,
    demo: false,
    adminToken: ADMIN,
    consoleDir: false,
    graceMs: 0,
    limits: { socketHighWaterBytes: 256 * 1024 },
    executors: () => createExecutorResolver({ tools: { 'test.echo': echoTool() } }),
  });
  wsBase = srv.url.replace(/^http/, 'ws');
});
afterAll(async () => {
  await srv.close(0);
});

// biome-ignore lint/suspicious/noExplicitAny: reads arbitrary response JSON
async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${srv.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

interface Watch {
  messages: SocketMessage[];
  closed: Promise<{ code: number; reason: string }>;
  ws: WebSocket;
  waitFor(pred: (m: SocketMessage) => boolean): Promise<SocketMessage>;
}

function watch(runId: string, opts: { after?: number; headers?: Record<string, string>; query?: string } = {}): Watch {
  const url = `${wsBase}/api/v1/ws/workflow_runs/${runId}?after=${opts.after ?? 0}${opts.query ?? ''}`;
  const ws = new WebSocket(url, { headers: opts.headers ?? { authorization: `Bearer ${ADMIN}` } });
  const messages: SocketMessage[] = [];
  const waiters: { pred: (m: SocketMessage) => boolean; resolve: (m: SocketMessage) => void }[] = [];
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as SocketMessage;
    messages.push(m);
    for (const w of [...waiters])
      if (w.pred(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: String(reason) }));
    ws.on('unexpected-response', (_req, res) => resolve({ code: res.statusCode ?? 0, reason: 'http' }));
    ws.on('error', () => undefined);
  });
  return {
    messages,
    closed,
    ws,
    waitFor: (pred) => {
      const hit = messages.find(pred);
      return hit ? Promise.resolve(hit) : new Promise((resolve) => waiters.push({ pred, resolve }));
    },
  };
}

const events = (w: Watch) => w.messages.flatMap((m) => (m.kind === 'event' ? [m.event] : []));

/** A gate, then 16 nodes of 400 kB outputs each: approving it floods every live watcher. */
function floodAfterGate(name: string) {
  const big = Array.from({ length: 16 }, (_, i) => ({ id: `big${i}`, type: 'transform', expression: "$pad('', 400000, 'x')" }));
  const nodes = [{ id: 'gate', type: 'human_gate', prompt: 'flood?' }, ...big];
  const edges = nodes.slice(1).map((n, i) => ({ from: nodes[i]!.id, to: n.id }));
  return { name, nodes, edges };
}

async function waitDone(runId: string) {
  for (let i = 0; i < 200 && (await api('GET', `/workflow_runs/${runId}`)).body.status !== 'succeeded'; i++)
    await new Promise((r) => setTimeout(r, 50));
}

describe('end to end over loopback', () => {
  it('runs a 5-node workflow with a branch and streams every transition and output over a WebSocket', async () => {
    const wf = await api('POST', '/workflows', branchingWorkflow('e2e-branch'));
    expect(wf.status).toBe(201);
    const run = await api('POST', `/workflows/${wf.body.id}/run`, { input: { n: 99 } });
    expect(run.status).toBe(201);
    const w = watch(run.body.id);
    const closed = await w.closed;
    expect(closed.code).toBe(1000);
    const evs = events(w);
    expect(evs.map((e) => e.seq)).toEqual(evs.map((_, i) => i + 1));
    const types = evs.map((e) => `${e.type}${e.nodeId ? `:${e.nodeId}` : ''}`);
    for (const n of ['fetch', 'is_big', 'big', 'done']) {
      expect(types).toContain(`node.started:${n}`);
      expect(types).toContain(`node.succeeded:${n}`);
    }
    expect(types).toContain('node.skipped:small');
    expect(types[0]).toBe('run.queued');
    const last = evs.at(-1);
    expect(last?.type).toBe('run.succeeded');
    expect(last?.data).toEqual({ output: { big: { size: 'big', n: 99 }, small: null } });
    const fetchDone = evs.find((e) => e.type === 'node.succeeded' && e.nodeId === 'fetch');
    expect((fetchDone?.data as { output: unknown } | undefined)?.output).toEqual({ n: 99 });
    expect(w.messages.at(-1)).toEqual({ kind: 'end', status: 'succeeded', lastSeq: last?.seq });
  });

  it('reconnecting with after=<last seq> misses nothing and repeats nothing', async () => {
    const wf = await api('POST', '/workflows', branchingWorkflow('e2e-resume'));
    const run = await api('POST', `/workflows/${wf.body.id}/run`, { input: { n: 1 } });
    const first = watch(run.body.id);
    await first.waitFor((m) => m.kind === 'event' && m.event.seq >= 4);
    first.ws.close();
    await first.closed;
    const got = events(first);
    const lastSeq = got.at(-1)!.seq;
    const second = watch(run.body.id, { after: lastSeq });
    await second.closed;
    const all = [...got, ...events(second)].map((e) => e.seq);
    const full = (await api('GET', `/workflow_runs/${run.body.id}/events`)).body.items.map((e: { seq: number }) => e.seq);
    expect(all).toEqual(full);
  });

  it('pauses at a human gate, is approved over HTTP, and finishes', async () => {
    const wf = await api('POST', '/workflows', gateWorkflow('e2e-gate'));
    const run = await api('POST', `/workflows/${wf.body.id}/run`, {});
    const w = watch(run.body.id);
    const waiting = await w.waitFor((m) => m.kind === 'event' && m.event.type === 'node.waiting');
    expect(waiting.kind === 'event' && waiting.event.data).toMatchObject({ prompt: 'Buy thing?' });
    const ok = await api('POST', `/workflow_runs/${run.body.id}/nodes/approve/approve`, { comment: 'fine' });
    expect(ok.status).toBe(200);
    await w.closed;
    const types = events(w).map((e) => e.type);
    expect(types).toContain('gate.approved');
    expect(types.at(-1)).toBe('run.succeeded');
    expect(events(w).find((e) => e.type === 'gate.approved')?.data).toMatchObject({ by: 'admin', comment: 'fine' });
  });

  it('cancels a running run', async () => {
    const wf = await api('POST', '/workflows', {
      name: 'e2e-slow',
      nodes: [{ id: 'wait', type: 'tool_call', tool: 'test.echo', input: { delayMs: 30_000 } }],
    });
    const run = await api('POST', `/workflows/${wf.body.id}/run`, {});
    const w = watch(run.body.id);
    await w.waitFor((m) => m.kind === 'event' && m.event.type === 'node.started');
    expect((await api('POST', `/workflow_runs/${run.body.id}/cancel`)).status).toBe(202);
    await w.closed;
    expect(events(w).at(-1)?.type).toBe('run.cancelled');
  });

  it('needs a token (header or ?token=) and refuses foreign origins', async () => {
    const wf = await api('POST', '/workflows', branchingWorkflow('e2e-auth'));
    const run = await api('POST', `/workflows/${wf.body.id}/run`, { input: { n: 1 } });
    expect((await watch(run.body.id, { headers: {} }).closed).code).toBe(401);
    const viaQuery = watch(run.body.id, { headers: {}, query: `&token=${ADMIN}` });
    expect((await viaQuery.closed).code).toBe(1000);
    expect(events(viaQuery).length).toBeGreaterThan(5);
    const evil = watch(run.body.id, { headers: { authorization: `Bearer ${ADMIN}`, origin: 'http://evil.example' } });
    expect((await evil.closed).code).toBe(403);
    const same = watch(run.body.id, { headers: { authorization: `Bearer ${ADMIN}`, origin: srv.url } });
    expect((await same.closed).code).toBe(1000);
  });

  it('streams live over SSE, and an EventSource-style reconnect with Last-Event-ID resumes exactly', async () => {
    const wf = await api('POST', '/workflows', gateWorkflow('e2e-sse'));
    const run = await api('POST', `/workflows/${wf.body.id}/run`, {});
    const read = async (lastEventId: string | undefined, until: (frames: string[]) => boolean) => {
      const ac = new AbortController();
      const res = await fetch(`${srv.url}/api/v1/workflow_runs/${run.body.id}/events`, {
        headers: {
          authorization: `Bearer ${ADMIN}`,
          accept: 'text/event-stream',
          ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
        },
        signal: ac.signal,
      });
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      const frames: string[] = [];
      let buf = '';
      const decoder = new TextDecoder();
      const reader = res.body!.getReader();
      while (!until(frames)) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        let i = buf.indexOf('\n\n');
        while (i >= 0) {
          frames.push(buf.slice(0, i));
          buf = buf.slice(i + 2);
          i = buf.indexOf('\n\n');
        }
      }
      ac.abort();
      return frames;
    };
    const ids = (frames: string[]) => frames.flatMap((f) => /^id: (\d+)$/m.exec(f)?.[1] ?? []).map(Number);
    const first = await read(undefined, (fs) => fs.some((f) => f.includes('event: node.waiting')));
    const seen = ids(first);
    expect(seen).toEqual(seen.map((_, i) => i + 1));
    expect((await api('POST', `/workflow_runs/${run.body.id}/nodes/approve/approve`, {})).status).toBe(200);
    const rest = await read(String(seen.at(-1)), (fs) => fs.some((f) => f.startsWith('event: end')));
    const all = [...seen, ...ids(rest)];
    expect(all).toEqual(all.map((_, i) => i + 1));
    expect(rest.some((f) => f.includes('event: run.succeeded'))).toBe(true);
  });

  it('closes a live consumer that falls behind with 4008 and a reason; it resumes with after and gets the rest', async () => {
    const wf = await api('POST', '/workflows', floodAfterGate('e2e-flood-ws'));
    expect(wf.status).toBe(201);
    const run = await api('POST', `/workflows/${wf.body.id}/run`, {});
    const slow = watch(run.body.id);
    await slow.waitFor((m) => m.kind === 'event' && m.event.type === 'node.waiting');
    const raw = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    raw.pause();
    await api('POST', `/workflow_runs/${run.body.id}/nodes/gate/approve`, {});
    await waitDone(run.body.id);
    raw.resume();
    const closed = await slow.closed;
    expect(closed.code).toBe(4008);
    expect(closed.reason).toMatch(/slow consumer: reconnect with after=\d+/);
    const got = events(slow);
    // The resumed client gets the backlog at its own pace (replay waits for the socket), then the end.
    const rest = watch(run.body.id, { after: got.at(-1)?.seq ?? 0 });
    expect((await rest.closed).code).toBe(1000);
    const all = [...got, ...events(rest)].map((e) => e.seq);
    expect(all).toEqual(all.map((_, i) => i + 1));
    expect(events(rest).at(-1)?.type).toBe('run.succeeded');
  });

  it('replays a large backlog to a fast client at its pace, without cutting it off', async () => {
    const wf = await api('POST', '/workflows', floodAfterGate('e2e-backlog'));
    const run = await api('POST', `/workflows/${wf.body.id}/run`, {});
    await new Promise((r) => setTimeout(r, 100));
    await api('POST', `/workflow_runs/${run.body.id}/nodes/gate/approve`, {});
    await waitDone(run.body.id);
    const w = watch(run.body.id);
    expect((await w.closed).code).toBe(1000);
    expect(events(w).at(-1)?.type).toBe('run.succeeded');
  });
});

describe('SSE slow consumer', () => {
  it('is cut off with a close frame naming where to resume; resuming with Last-Event-ID gets the rest', async () => {
    const wf = await api('POST', '/workflows', floodAfterGate('e2e-flood-sse'));
    const run = await api('POST', `/workflows/${wf.body.id}/run`, {});
    const url = new URL(`${srv.url}/api/v1/workflow_runs/${run.body.id}/events`);
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpGet(url, { headers: { authorization: `Bearer ${ADMIN}`, accept: 'text/event-stream' } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('end', () => resolve(text));
        const onData = (d: string) => {
          text += d;
          if (text.includes('event: node.waiting')) {
            res.off('data', onData);
            res.pause();
            void (async () => {
              await api('POST', `/workflow_runs/${run.body.id}/nodes/gate/approve`, {});
              await waitDone(run.body.id);
              res.on('data', (more: string) => {
                text += more;
              });
              res.resume();
            })();
          }
        };
        res.on('data', onData);
      });
      req.on('error', reject);
    });
    const close = /event: close\ndata: (.*)/.exec(body);
    expect(close?.[1]).toMatch(/slow consumer/);
    const ids = [...body.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual(ids.map((_, i) => i + 1));
    const rest = await fetch(url, {
      headers: { authorization: `Bearer ${ADMIN}`, accept: 'text/event-stream', 'last-event-id': String(ids.at(-1)) },
    });
    const restIds = [...(await rest.text()).matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    const all = [...ids, ...restIds];
    expect(all).toEqual(all.map((_, i) => i + 1));
    expect(all.length).toBe((await api('GET', `/workflow_runs/${run.body.id}/events`)).body.items.length);
  });
});

describe('open streams per principal', () => {
  let small: RunningServer;
  beforeAll(async () => {
    small = await startTrellisServer({
      db: join(mkdtempSync(join(tmpdir(), 'trellis-e2e-cap-')), 'trellis.db'),
      host: '127.0.0.1',
      port: 0,
      ...EXAMPLE_OPTIONS,
      demo: false,
      adminToken: ADMIN,
      consoleDir: false,
      graceMs: 0,
      limits: { streamsPerPrincipal: 2 },
    });
  });
  afterAll(async () => {
    await small.close(0);
  });

  it('are bounded for all tokens of a principal together: the third stream gets 429 until one closes', async () => {
    const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
    const wf = await (
      await fetch(`${small.url}/api/v1/workflows`, { method: 'POST', headers, body: JSON.stringify(gateWorkflow('cap')) })
    ).json();
    const run = await (await fetch(`${small.url}/api/v1/workflows/${wf.id}/run`, { method: 'POST', headers, body: '{}' })).json();
    const url = `${small.url.replace('http', 'ws')}/api/v1/ws/workflow_runs/${run.id}`;
    // A second token of the same principal buys no more streams.
    const second = await (
      await fetch(`${small.url}/api/v1/tokens`, { method: 'POST', headers, body: JSON.stringify({ name: 'second' }) })
    ).json();
    const secondHeaders = { authorization: `Bearer ${second.token}` };
    const open = (h: Record<string, string> = headers) =>
      new Promise<{ ws: WebSocket; status: number }>((resolve) => {
        const ws = new WebSocket(url, { headers: h });
        ws.on('open', () => resolve({ ws, status: 101 }));
        ws.on('unexpected-response', (_q, res) => resolve({ ws, status: res.statusCode ?? 0 }));
        ws.on('error', () => undefined);
      });
    const a = await open();
    const b = await open();
    expect([a.status, b.status]).toEqual([101, 101]);
    expect((await open()).status).toBe(429);
    expect((await open(secondHeaders)).status).toBe(429);
    const sse = await fetch(`${small.url}/api/v1/workflow_runs/${run.id}/events`, {
      headers: { ...secondHeaders, accept: 'text/event-stream' },
    });
    expect(sse.status).toBe(429);
    a.ws.close();
    await new Promise((r) => a.ws.once('close', r));
    await new Promise((r) => setTimeout(r, 50));
    const c = await open();
    expect(c.status).toBe(101);
    b.ws.close();
    c.ws.close();
  });
});
