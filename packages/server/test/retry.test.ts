/** POST /workflow_runs/:id/retry through the real server: shape, roles, refusals, the record's links. */
import type { Executor } from '@trellis/core';
import { TrellisError } from '@trellis/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startTestServer, type TestServer } from './helpers.ts';

let t: TestServer;
let down = true;
const flakyCalls: Record<string, number> = {};
const flaky: Executor = {
  async execute(input, ctx) {
    flakyCalls[ctx.nodeId] = (flakyCalls[ctx.nodeId] ?? 0) + 1;
    if (ctx.nodeId === 'last' && down) throw new TrellisError('TOOL_ERROR', 'the provider is down');
    return { kind: 'succeeded', output: { node: ctx.nodeId, input }, cost: { costUsd: 0.25 } };
  },
};

const definition = (name: string) => ({
  name,
  nodes: [
    { id: 'first', type: 'tool_call', tool: 'test.flaky', input: { q: '$context.q' } },
    { id: 'last', type: 'tool_call', tool: 'test.flaky', input: { prev: '$first.node' } },
  ],
  edges: [{ from: 'first', to: 'last' }],
});

beforeAll(async () => {
  t = await startTestServer({ tools: { 'test.flaky': flaky } });
});
afterAll(async () => {
  await t.close();
});

async function failedRun(name: string): Promise<{ workflowId: string; runId: string }> {
  down = true;
  const workflowId = json(await t.request('POST', '/api/v1/workflows', { body: definition(name) })).id;
  const runId = json(await t.request('POST', `/api/v1/workflows/${workflowId}/run`, { body: { input: { q: 'x' } } })).id;
  const rec = await t.engine.waitForRun(runId);
  expect(rec.status).toBe('failed');
  return { workflowId, runId };
}

const retry = (runId: string, body: unknown = {}, token?: string, headers: Record<string, string> = {}) =>
  t.request('POST', `/api/v1/workflow_runs/${runId}/retry`, { body, headers, ...(token ? { token } : {}) });

describe('POST /workflow_runs/:id/retry', () => {
  it('201 { id, status, retryOf }: a new run that reuses what succeeded; both records link', async () => {
    const { runId } = await failedRun('retry-api');
    down = false;
    const res = await retry(runId);
    expect(res.statusCode).toBe(201);
    const body = json(res);
    expect(body).toMatchObject({ retryOf: runId, created: true, reused: 1, version: 1 });
    expect(body.costSavedUsd).toBeCloseTo(0.25);
    expect(res.headers.location).toBe(`/api/v1/workflow_runs/${body.id}`);
    await t.engine.waitForRun(body.id);
    const rec = json(await t.request('GET', `/api/v1/workflow_runs/${body.id}`));
    expect(rec).toMatchObject({ status: 'succeeded', retryOf: runId, retries: [] });
    expect(rec.costUsd).toBeCloseTo(0.25);
    expect(rec.costSavedUsd).toBeCloseTo(0.25);
    expect(rec.nodes.first).toMatchObject({ reusedFrom: runId, costUsd: 0 });
    expect(rec.nodes.last.notReused).toContain('failed in run');
    const original = json(await t.request('GET', `/api/v1/workflow_runs/${runId}`));
    expect(original.retries).toEqual([body.id]);
    const events = json(await t.request('GET', `/api/v1/workflow_runs/${body.id}/events`)).items;
    expect(events.filter((e: { type: string }) => e.type === 'node.reused')).toHaveLength(1);
    // Listed runs carry the link too.
    const list = json(await t.request('GET', `/api/v1/workflows/${rec.workflowId}/runs`)).items;
    expect(list.find((r: { id: string }) => r.id === body.id).retryOf).toBe(runId);

    // A succeeded run: nothing failed, so 'from' is needed.
    const nothing = await retry(body.id);
    expect(nothing.statusCode).toBe(409);
    expect(json(nothing).code).toBe('NOTHING_TO_RERUN');
    const rerun = await retry(body.id, { from: ['last'] });
    expect(rerun.statusCode).toBe(201);
    expect(json(rerun).reused).toBe(1);
    await t.engine.waitForRun(json(rerun).id);
  });

  it('the same Idempotency-Key returns the same retry (200); bad bodies are 400/422', async () => {
    const { runId } = await failedRun('retry-idem');
    const a = await retry(runId, {}, undefined, { 'idempotency-key': 'again-1' });
    const b = await retry(runId, {}, undefined, { 'idempotency-key': 'again-1' });
    expect([a.statusCode, b.statusCode]).toEqual([201, 200]);
    expect(json(b).id).toBe(json(a).id);
    expect(json(b).created).toBe(false);
    await t.engine.waitForRun(json(a).id);
    expect((await retry(runId, { from: [] })).statusCode).toBe(400);
    expect((await retry(runId, { version: 'newest' })).statusCode).toBe(400);
    expect((await retry(runId, { bogus: true })).statusCode).toBe(400);
    const unknown = await retry(runId, { from: ['nope'] });
    expect(unknown.statusCode).toBe(422);
    expect(json(unknown).code).toBe('RETRY_UNKNOWN_NODE');
    expect(json(unknown).detail).toContain("'nope'");
  });

  it('version "latest" runs the newest version', async () => {
    const { workflowId, runId } = await failedRun('retry-latest');
    await t.request('PUT', `/api/v1/workflows/${workflowId}`, { body: { ...definition('retry-latest'), description: 'v2' } });
    down = false;
    const res = await retry(runId, { version: 'latest' });
    expect(res.statusCode).toBe(201);
    expect(json(res)).toMatchObject({ version: 2, reused: 1 });
    const rec = await t.engine.waitForRun(json(res).id);
    expect(rec.status).toBe('succeeded');
  });

  it('a viewer cannot retry (403); a runner can; an unknown run is 404; a run still going is 409', async () => {
    const { workflowId, runId } = await failedRun('retry-perms');
    const granted = await t.request('PUT', `/api/v1/workflows/${workflowId}/permissions`, {
      body: [
        { principal: 'alice', role: 'owner' },
        { principal: 'bob', role: 'viewer' },
        { principal: 'carol', role: 'runner' },
      ],
    });
    expect(granted.statusCode).toBe(200);
    // The viewer can read the run, not retry it.
    expect((await t.request('GET', `/api/v1/workflow_runs/${runId}`, { token: t.tokens.bob })).statusCode).toBe(200);
    const viewer = await retry(runId, {}, t.tokens.bob);
    expect(viewer.statusCode).toBe(403);
    expect(json(viewer).detail).toContain('viewer');
    const runner = await retry(runId, {}, t.tokens.carol);
    expect(runner.statusCode).toBe(201);
    const rec = await t.engine.waitForRun(json(runner).id);
    expect(rec.createdBy).toBe('carol');
    expect((await retry('no-such-run')).statusCode).toBe(404);
    expect((await t.request('POST', `/api/v1/workflow_runs/${runId}/retry`, { token: null, body: {} })).statusCode).toBe(401);

    const gated = json(
      await t.request('POST', '/api/v1/workflows', {
        body: { name: 'retry-gate', nodes: [{ id: 'g', type: 'human_gate', prompt: 'ok?' }] },
      }),
    ).id;
    const waiting = json(await t.request('POST', `/api/v1/workflows/${gated}/run`, { body: {} })).id;
    await t.engine.waitForRun(waiting, { orWaiting: true });
    const busy = await retry(waiting);
    expect(busy.statusCode).toBe(409);
    expect(json(busy).code).toBe('RUN_NOT_FINISHED');
    await t.request('POST', `/api/v1/workflow_runs/${waiting}/cancel`);
  });

  it('a run of a deleted workflow stays readable but is not retried (409 WORKFLOW_DELETED)', async () => {
    const { workflowId, runId } = await failedRun('retry-deleted');
    expect((await t.request('DELETE', `/api/v1/workflows/${workflowId}`)).statusCode).toBeLessThan(300);
    const res = await retry(runId);
    expect(res.statusCode).toBe(409);
    expect(json(res).code).toBe('WORKFLOW_DELETED');
    expect(json(res).detail).toContain('was deleted');
    expect((await t.request('GET', `/api/v1/workflow_runs/${runId}`)).statusCode).toBe(200);
  });
});
