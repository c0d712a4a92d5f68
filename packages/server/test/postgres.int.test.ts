/**
 * The same server on PostgreSQL: a throwaway cluster (see packages/store/test/helpers), the
 * real engine and HTTP on loopback — create, run with a branch, a gate approved over HTTP,
 * templates and permissions, metrics.
 */
import { createExecutorResolver } from '@trellis/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../store/test/helpers/postgres.ts';
import { type RunningServer, startTrellisServer } from '../src/index.ts';
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
    demo: true,
    adminToken: ADMIN,
    consoleDir: false,
    graceMs: 0,
    executors: () => createExecutorResolver({ tools: { 'test.echo': echoTool() } }),
  });
}, 120_000);
afterAll(async () => {
  await srv?.close(0);
  await pgServer?.destroy();
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
    expect(metrics.body).toMatch(/^trellis_node_duration_seconds_count [1-9]/m);
    expect(metrics.body).toMatch(/^trellis_runs\{status="succeeded"\} [1-9]/m);
  });
});
