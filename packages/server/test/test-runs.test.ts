/**
 * The builder's test runs (POST /workflows/:id/test, scratch runs) and the run history across
 * workflows (GET /workflow_runs), through the real server, engine and SQLite file.
 */
import type { Executor } from '@trellis/core';
import { deleteScratchRuns } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startTestServer, type TestServer } from './helpers.ts';

let t: TestServer;
const calls: Record<string, number> = {};
const search: Executor = {
  async execute(input, ctx) {
    calls[ctx.nodeId] = (calls[ctx.nodeId] ?? 0) + 1;
    return { kind: 'succeeded', output: { hotels: [{ name: `Hotel ${(input as { city: string }).city}` }], node: ctx.nodeId } };
  },
};

const definition = (name: string, pickExpr = '$search.hotels[0].name') => ({
  name,
  inputSchema: { type: 'object', properties: { city: { type: 'string' } } },
  nodes: [
    { id: 'search', type: 'tool_call', tool: 'test.search', input: { city: '$context.city' } },
    { id: 'pick', type: 'transform', expression: pickExpr },
    { id: 'after', type: 'tool_call', tool: 'test.search', input: { city: '$pick' } },
  ],
  edges: [
    { from: 'search', to: 'pick' },
    { from: 'pick', to: 'after' },
  ],
  triggers: [],
});

beforeAll(async () => {
  t = await startTestServer({ tools: { 'test.search': search } });
});
afterAll(async () => {
  await t.close();
});

async function workflowWithRun(name: string): Promise<{ workflowId: string; runId: string }> {
  const workflowId = json(await t.request('POST', '/api/v1/workflows', { body: definition(name) })).id;
  const runId = json(await t.request('POST', `/api/v1/workflows/${workflowId}/run`, { body: { input: { city: 'Oslo' } } })).id;
  expect((await t.engine.waitForRun(runId)).status).toBe('succeeded');
  return { workflowId, runId };
}

const history = async (workflowId: string, token?: string) =>
  json(await t.request('GET', `/api/v1/workflows/${workflowId}/runs`, token ? { token } : {})).items as { id: string }[];

describe('POST /workflows/:id/test', () => {
  it('tests one node with the upstream reused from the newest run; the history does not change', async () => {
    const { workflowId, runId } = await workflowWithRun('test-node');
    const before = { ...calls };
    const draft = definition('test-node', '$uppercase($search.hotels[0].name)');
    const res = await t.request('POST', `/api/v1/workflows/${workflowId}/test`, { body: { node: 'pick', definition: draft } });
    expect(res.statusCode).toBe(200);
    const body = json(res);
    expect(body).toMatchObject({ node: 'pick', mode: 'node', fromRun: runId, finished: true, workflowId });
    expect(body.record.status).toBe('succeeded');
    expect(body.record.nodes.pick.output).toBe('HOTEL OSLO');
    expect(body.record.nodes.search.reusedFrom).toBe(runId);
    // Only the node under test ran: nothing downstream, no upstream call.
    expect(body.record.nodes.after).toBeUndefined();
    expect(calls).toEqual(before);
    // The workflow's history, last run and the run tested are untouched.
    expect((await history(workflowId)).map((r) => r.id)).toEqual([runId]);
    const all = json(await t.request('GET', `/api/v1/workflow_runs?workflowId=${workflowId}`)).items;
    expect(all.map((r: { id: string }) => r.id)).toEqual([runId]);
    expect(json(await t.request('GET', `/api/v1/workflow_runs/${runId}`)).retries).toEqual([]);
    const list = json(await t.request('GET', '/api/v1/workflows?q=test-node')).items;
    expect(list).toHaveLength(1);
    expect(list[0].lastRun.id).toBe(runId);
    // The test run is readable through the workflow, and not as an ordinary run by its owner's peers.
    const again = await t.request('GET', `/api/v1/workflows/${workflowId}/test_runs/${body.id}`);
    expect(again.statusCode).toBe(200);
    expect(json(again).record.nodes.pick.output).toBe('HOTEL OSLO');
    expect((await t.request('GET', `/api/v1/workflow_runs/${body.id}`)).statusCode).toBe(403);
    expect((await t.request('GET', `/api/v1/workflows/${workflowId}/test_runs/${runId}`)).statusCode).toBe(404);
  });

  it('"upTo" runs the node and everything upstream with the given input; an upstream change reruns it', async () => {
    const { workflowId } = await workflowWithRun('test-upto');
    const before = calls.search ?? 0;
    const res = await t.request('POST', `/api/v1/workflows/${workflowId}/test`, {
      body: { node: 'pick', mode: 'upTo', input: { city: 'Rome' } },
    });
    expect(res.statusCode).toBe(200);
    const body = json(res);
    expect(body.fromRun).toBeNull();
    expect(body.record.nodes.pick.output).toBe('Hotel Rome');
    expect(calls.search).toBe(before + 1);
    // "node" mode with a changed upstream node: it is not reused, it runs again.
    const changed = definition('test-upto');
    (changed.nodes[0] as { input: unknown }).input = { city: '$context.city', extra: 1 };
    const rerun = json(
      await t.request('POST', `/api/v1/workflows/${workflowId}/test`, { body: { node: 'pick', definition: changed } }),
    );
    expect(rerun.record.nodes.search.reusedFrom).toBeUndefined();
    expect(rerun.record.nodes.search.notReused).toContain('changed');
    expect(calls.search).toBe(before + 2);
  });

  it('refuses clearly: unknown node 422, no run to reuse 409, invalid draft 422, other run 404', async () => {
    const workflowId = json(await t.request('POST', '/api/v1/workflows', { body: definition('test-refuse') })).id;
    const test = (body: unknown) => t.request('POST', `/api/v1/workflows/${workflowId}/test`, { body });
    const unknown = await test({ node: 'nope' });
    expect(unknown.statusCode).toBe(422);
    expect(json(unknown).code).toBe('TEST_UNKNOWN_NODE');
    const needs = await test({ node: 'pick' });
    expect(needs.statusCode).toBe(409);
    expect(json(needs).code).toBe('TEST_NEEDS_RUN');
    expect(json(needs).detail).toContain('run up to here');
    const invalid = await test({ node: 'pick', definition: { name: 'x', nodes: [] } });
    expect(invalid.statusCode).toBe(422);
    expect(json(invalid).code).toBe('DEFINITION_INVALID');
    const other = await workflowWithRun('test-other');
    const foreign = await test({ node: 'pick', fromRun: other.runId });
    expect(foreign.statusCode).toBe(404);
    // A first node needs no upstream data: it runs with the input.
    const first = json(await test({ node: 'search', input: { city: 'Lima' } }));
    expect(first.record.nodes.search.output.hotels[0].name).toBe('Hotel Lima');
    expect(await history(workflowId)).toEqual([]);
  });

  it('authorises the runner role: a viewer gets 403, a stranger 403/404, a runner 200', async () => {
    const { workflowId } = await workflowWithRun('test-perms');
    await t.request('PUT', `/api/v1/workflows/${workflowId}/permissions`, {
      body: [
        { principal: 'alice', role: 'owner' },
        { principal: 'bob', role: 'viewer' },
        { principal: 'carol', role: 'runner' },
      ],
    });
    const as = (token: string) => t.request('POST', `/api/v1/workflows/${workflowId}/test`, { body: { node: 'pick' }, token });
    expect((await as(t.tokens.bob)).statusCode).toBe(403);
    const runner = await as(t.tokens.carol);
    expect(runner.statusCode).toBe(200);
    const id = json(runner).id;
    expect((await t.request('GET', `/api/v1/workflows/${workflowId}/test_runs/${id}`, { token: t.tokens.bob })).statusCode).toBe(
      403,
    );
    // Revoked: carol loses the test runs with the workflow.
    await t.request('PUT', `/api/v1/workflows/${workflowId}/permissions`, { body: [{ principal: 'alice', role: 'owner' }] });
    expect([403, 404]).toContain((await as(t.tokens.carol)).statusCode);
  });

  it('finished test runs are deleted after the retention; real runs stay', async () => {
    const { workflowId, runId } = await workflowWithRun('test-retention');
    const test = json(await t.request('POST', `/api/v1/workflows/${workflowId}/test`, { body: { node: 'pick' } }));
    expect(await deleteScratchRuns(t.handle.db, new Date(Date.now() - 60_000).toISOString())).toBe(0);
    expect(await deleteScratchRuns(t.handle.db, new Date(Date.now() + 60_000).toISOString())).toBeGreaterThanOrEqual(1);
    expect((await t.request('GET', `/api/v1/workflows/${workflowId}/test_runs/${test.id}`)).statusCode).toBe(404);
    expect((await t.request('GET', `/api/v1/workflow_runs/${runId}`)).statusCode).toBe(200);
    // The scratch workflow keeps working after its old versions went.
    const next = await t.request('POST', `/api/v1/workflows/${workflowId}/test`, { body: { node: 'pick' } });
    expect(json(next).record.status).toBe('succeeded');
  });
});

describe('GET /workflow_runs', () => {
  it('lists the runs of visible workflows only, with filters, input previews and pages', async () => {
    const mine = await workflowWithRun('hist-alice');
    const bobs = json(await t.request('POST', '/api/v1/workflows', { body: definition('hist-bob'), token: t.tokens.bob })).id;
    const bobRun = json(
      await t.request('POST', `/api/v1/workflows/${bobs}/run`, { body: { input: { city: 'Bern' } }, token: t.tokens.bob }),
    ).id;
    await t.engine.waitForRun(bobRun);

    const aliceList = json(await t.request('GET', '/api/v1/workflow_runs?limit=200')).items as {
      id: string;
      workflowName: string;
      inputPreview: string;
    }[];
    const ids = aliceList.map((r) => r.id);
    expect(ids).toContain(mine.runId);
    expect(ids).not.toContain(bobRun);
    const row = aliceList.find((r) => r.id === mine.runId)!;
    expect(row.workflowName).toBe('hist-alice');
    expect(JSON.parse(row.inputPreview)).toEqual({ city: 'Oslo' });
    // Bob sees his, not Alice's; the administrator sees both.
    const bobList = json(await t.request('GET', '/api/v1/workflow_runs', { token: t.tokens.bob })).items.map(
      (r: { id: string }) => r.id,
    );
    expect(bobList).toEqual([bobRun]);
    const adminIds = json(await t.request('GET', '/api/v1/workflow_runs?limit=200', { token: t.tokens.admin })).items.map(
      (r: { id: string }) => r.id,
    );
    expect(adminIds).toEqual(expect.arrayContaining([bobRun, mine.runId]));
    // Asking for another's workflow by id shows nothing.
    expect(json(await t.request('GET', `/api/v1/workflow_runs?workflowId=${bobs}`)).items).toEqual([]);

    // Filters: status, time window, origin.
    expect(json(await t.request('GET', `/api/v1/workflow_runs?workflowId=${mine.workflowId}&status=failed`)).items).toEqual([]);
    const ok = json(await t.request('GET', `/api/v1/workflow_runs?workflowId=${mine.workflowId}&status=succeeded,failed`)).items;
    expect(ok.map((r: { id: string }) => r.id)).toEqual([mine.runId]);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect(json(await t.request('GET', `/api/v1/workflow_runs?since=${future}`)).items).toEqual([]);
    const past = json(await t.request('GET', `/api/v1/workflow_runs?until=${future}&origin=manual&limit=200`)).items;
    expect(past.map((r: { id: string }) => r.id)).toContain(mine.runId);
    expect(json(await t.request('GET', '/api/v1/workflow_runs?origin=schedule')).items).toEqual([]);

    // Pages follow the cursor without repeats.
    const p1 = json(await t.request('GET', '/api/v1/workflow_runs?limit=1'));
    expect(p1.items).toHaveLength(1);
    const p2 = json(await t.request('GET', `/api/v1/workflow_runs?limit=1&cursor=${p1.nextCursor}`));
    expect(p2.items[0].id).not.toBe(p1.items[0].id);

    // Bad input: clear 400s.
    const badStatus = await t.request('GET', '/api/v1/workflow_runs?status=done');
    expect(badStatus.statusCode).toBe(400);
    expect(json(badStatus).detail).toContain('unknown status done');
    expect((await t.request('GET', '/api/v1/workflow_runs?since=yesterday')).statusCode).toBe(400);
    expect((await t.request('GET', '/api/v1/workflow_runs?cursor=garbage')).statusCode).toBe(400);
    expect((await t.request('GET', '/api/v1/workflow_runs', { token: null })).statusCode).toBe(401);
  });
});
