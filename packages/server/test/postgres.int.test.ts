/**
 * The same server on PostgreSQL: a throwaway cluster (see packages/store/test/helpers), the
 * real engine and HTTP on loopback — create, run with a branch, a gate approved over HTTP,
 * templates and permissions, metrics.
 */
import { createExecutorResolver } from '@trellis/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../store/test/helpers/postgres.ts';
import { type RunningServer, startTrellisServer } from '../src/index.ts';
import { EXAMPLE_OPTIONS } from './examples.ts';
import { branchingWorkflow, echoTool, gateWorkflow } from './helpers.ts';

const ADMIN = 'pg-admin-token-0123456789abcdef';
let pgServer: TestPostgres;
let srv: RunningServer;

beforeAll(async () => {
  pgServer = await startPostgres();
  srv = await startTrellisServer({
    db: await pgServer.createDatabase('server'),
    host: '127.0.0.1',
    port: 0,
    ...EXAMPLE_OPTIONS,
    demo: true,
    adminToken: ADMIN,
    // PostgreSQL needs the secrets key given (the demo's services are called with a secret token).
    secretKey: 'ab'.repeat(32),
    consoleDir: false,
    graceMs: 0,
    executors: () => createExecutorResolver({ tools: { 'test.echo': echoTool() } }),
  });
}, 120_000);
afterAll(async () => {
  await srv?.close(0);
  try {
    // Every run any test left behind satisfies the run invariants (nothing lost or reordered).
    await pgServer?.checkInvariants();
  } finally {
    await pgServer?.destroy();
  }
});

// biome-ignore lint/suspicious/noExplicitAny: reads arbitrary response JSON
async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(
    `${srv.url}${path.startsWith('/') && !path.startsWith('/api') && path !== '/metrics' ? `/api/v1${path}` : path}`,
    {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    },
  );
  const text = await res.text();
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') && text ? JSON.parse(text) : text };
}

describe('trellis serve on PostgreSQL', () => {
  it('runs a branching workflow and a gated one', async () => {
    expect(srv.store.dialect).toBe('postgres');
    const wf = await api('POST', '/workflows', branchingWorkflow('pg-branch'));
    expect(wf.status).toBe(201);
    const run = await api('POST', `/workflows/${wf.body.id}/run`, { input: { n: 50 } });
    expect(run.status).toBe(201);
    const done = await srv.engine.waitForRun(run.body.id);
    expect(done.status).toBe('succeeded');
    expect(done.nodes.small?.status).toBe('skipped');

    const gated = await api('POST', '/workflows', gateWorkflow('pg-gate'));
    const g = await api('POST', `/workflows/${gated.body.id}/run`, {});
    await srv.engine.waitForRun(g.body.id, { orWaiting: true });
    expect((await api('POST', `/workflow_runs/${g.body.id}/nodes/approve/approve`, {})).status).toBe(200);
    expect((await api('POST', `/workflow_runs/${g.body.id}/nodes/approve/approve`, {})).status).toBe(409);
    expect((await srv.engine.waitForRun(g.body.id)).status).toBe('succeeded');
  });

  it('lists demo workflows and built-in templates, searches, and serves metrics', async () => {
    const list = await api('GET', '/workflows?q=PG-');
    expect(list.body.items.map((w: { name: string }) => w.name).sort()).toEqual(['pg-branch', 'pg-gate']);
    const templates = await api('GET', '/templates');
    expect(templates.body.items.some((t: { builtin: boolean }) => t.builtin)).toBe(true);
    const metrics = await api('GET', '/metrics');
    expect(metrics.body).toMatch(/^trellis_node_duration_seconds_count\{type="[a-z_]+"\} [1-9]/m);
    expect(metrics.body).toMatch(/^trellis_runs\{status="succeeded"\} [1-9]/m);
  });
});

describe('two servers on one PostgreSQL', () => {
  it('WebSocket clients on each server see every event of a run executed by the other, in order, without gaps', async () => {
    const { default: WebSocket } = await import('ws');
    const slow = {
      async execute(input: unknown) {
        await new Promise((r) => setTimeout(r, 30));
        return { kind: 'succeeded' as const, output: { echo: input } };
      },
    };
    const url = await pgServer.createDatabase('two_servers');
    const common = {
      db: url,
      host: '127.0.0.1',
      port: 0,
      ...EXAMPLE_OPTIONS,
      demo: false,
      adminToken: ADMIN,
      consoleDir: false as const,
      graceMs: 0,
    };
    const a = await startTrellisServer({ ...common, executors: () => createExecutorResolver({ tools: { 'test.echo': slow } }) });
    const b = await startTrellisServer({ ...common, executors: () => createExecutorResolver({ tools: { 'test.echo': slow } }) });
    try {
      const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
      const wf = await (
        await fetch(`${a.url}/api/v1/workflows`, { method: 'POST', headers, body: JSON.stringify(branchingWorkflow('two')) })
      ).json();
      const run = await (
        await fetch(`${a.url}/api/v1/workflows/${wf.id}/run`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ input: { n: 50 } }),
        })
      ).json();
      const watch = (base: string, after: number) =>
        new Promise<number[]>((resolve, reject) => {
          const seqs: number[] = [];
          const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/ws/workflow_runs/${run.id}?after=${after}`, {
            headers: { authorization: `Bearer ${ADMIN}` },
          });
          ws.on('message', (raw) => {
            const msg = JSON.parse(String(raw)) as { kind: string; event?: { seq: number; type: string } };
            if (msg.kind !== 'event' || !msg.event) return;
            seqs.push(msg.event.seq);
            if (/^run\.(succeeded|failed|cancelled)$/.test(msg.event.type)) {
              ws.close();
              resolve(seqs);
            }
          });
          ws.on('error', reject);
        });
      const [onA, onB, onBLate] = await Promise.all([watch(a.url, 0), watch(b.url, 0), watch(b.url, 2)]);
      const total = (await a.engine.listEvents(run.id, 0)).length;
      expect(total).toBeGreaterThan(8);
      expect(onA).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(onB).toEqual(onA);
      expect(onBLate).toEqual(onA.slice(2));
    } finally {
      await a.close(0);
      await b.close(0);
    }
  });
});
