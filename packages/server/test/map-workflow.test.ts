/**
 * `map` and `workflow` nodes through the API: save-time reference checks (422 with codes),
 * item gates decided by their own route, run records with items and child links, events with
 * `item`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers.ts';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function create(s: TestServer, def: unknown, token = s.tokens.alice) {
  return s.request('POST', '/api/v1/workflows', { token, body: def });
}

async function waitFor(s: TestServer, runId: string, done: (status: string) => boolean) {
  for (let i = 0; i < 400; i++) {
    const r = await s.request('GET', `/api/v1/workflow_runs/${runId}`);
    if (done(r.json().status)) return r.json();
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error('run did not settle');
}

describe('map and workflow nodes through the API', () => {
  it('refuses unknown, forbidden and cyclic workflow references at save time (422 with codes)', async () => {
    t = await startTestServer();
    const unknown = await create(t, { name: 'p', nodes: [{ id: 'sub', type: 'workflow', workflow: 'nope' }] });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().errors).toMatchObject([{ code: 'UNKNOWN_WORKFLOW', path: '/nodes/0/workflow', nodes: ['sub'] }]);

    const bobs = await create(t, { name: 'bobs', nodes: [{ id: 'x', type: 'transform', expression: '1' }] }, t.tokens.bob);
    expect(bobs.statusCode).toBe(201);
    // alice cannot see bob's workflow: unknown to her; once she is a viewer it is forbidden; runner: fine
    const hidden = await create(t, { name: 'p', nodes: [{ id: 'sub', type: 'workflow', workflow: 'bobs' }] });
    expect(hidden.json().errors[0].code).toBe('UNKNOWN_WORKFLOW');
    const perms = `/api/v1/workflows/${bobs.json().id}/permissions`;
    await t.request('PUT', perms, {
      token: t.tokens.bob,
      body: [
        { principal: 'bob', role: 'owner' },
        { principal: 'alice', role: 'viewer' },
      ],
    });
    const forbidden = await create(t, { name: 'p', nodes: [{ id: 'sub', type: 'workflow', workflow: 'bobs' }] });
    expect(forbidden.json().errors[0].code).toBe('WORKFLOW_FORBIDDEN');
    await t.request('PUT', perms, {
      token: t.tokens.bob,
      body: [
        { principal: 'bob', role: 'owner' },
        { principal: 'alice', role: 'runner' },
      ],
    });
    expect((await create(t, { name: 'p', nodes: [{ id: 'sub', type: 'workflow', workflow: 'bobs' }] })).statusCode).toBe(201);

    // a → b, then a new version of b calling a: a cycle
    const b = await create(t, { name: 'b', nodes: [{ id: 'x', type: 'transform', expression: '1' }] });
    const a = await create(t, { name: 'a', nodes: [{ id: 'call_b', type: 'workflow', workflow: 'b' }] });
    expect(a.statusCode).toBe(201);
    const cyc = await t.request('PUT', `/api/v1/workflows/${b.json().id}`, {
      body: { name: 'b', nodes: [{ id: 'call_a', type: 'workflow', workflow: a.json().id }] },
    });
    expect(cyc.statusCode).toBe(422);
    expect(cyc.json().errors[0]).toMatchObject({ code: 'WORKFLOW_CYCLE', nodes: ['call_a'] });
    // validate says the same as saving
    const v = await t.request('POST', '/api/v1/workflows/validate', {
      body: { name: 'p', nodes: [{ id: 'sub', type: 'workflow', workflow: 'nope' }] },
    });
    expect(v.json()).toMatchObject({ valid: false, errors: [{ code: 'UNKNOWN_WORKFLOW' }] });
  });

  it('runs a map with a gate per item: item route decides, record and events carry items and child links', async () => {
    t = await startTestServer();
    const child = await create(t, { name: 'child', nodes: [{ id: 'twice', type: 'transform', expression: '$context.n * 2' }] });
    expect(child.statusCode).toBe(201);
    const wf = await create(t, {
      name: 'map-api',
      nodes: [
        { id: 'src', type: 'transform', expression: '[1, 2]' },
        { id: 'ask', type: 'map', items: '$src', do: { type: 'human_gate', prompt: 'keep {{ $item }}?' } },
        { id: 'sub', type: 'workflow', workflow: 'child', input: { n: '$src[1]' } },
      ],
      edges: [
        { from: 'src', to: 'ask' },
        { from: 'ask', to: 'sub' },
      ],
    });
    expect(wf.statusCode).toBe(201);
    const started = await t.request('POST', `/api/v1/workflows/${wf.json().id}/run`, { body: { input: {} } });
    const runId = started.json().id;
    const waiting = await waitFor(t, runId, (s) => s === 'waiting');
    expect(waiting.nodes.ask.itemCount).toBe(2);
    expect(waiting.nodes.ask.items['1']).toMatchObject({ status: 'waiting', prompt: 'keep 2?' });
    const base = `/api/v1/workflow_runs/${runId}/nodes/ask/items`;
    expect((await t.request('POST', `${base}/5/approve`, { body: {} })).statusCode).toBe(409);
    expect((await t.request('POST', `${base}/1/approve`, { token: t.tokens.bob, body: {} })).statusCode).toBe(403);
    const ok = await t.request('POST', `${base}/1/approve`, { body: { comment: 'yes' } });
    expect(ok.json()).toMatchObject({ runId, nodeId: 'ask', item: 1, decision: 'approved', by: 'alice' });
    expect((await t.request('POST', `${base}/1/approve`, { body: {} })).statusCode).toBe(409);
    await t.request('POST', `${base}/0/reject`, { body: { comment: 'no' } });
    const done = await waitFor(t, runId, (s) => s === 'failed' || s === 'succeeded');
    expect(done.status).toBe('failed');
    expect(done.error.code).toBe('GATE_REJECTED');

    const evs = (await t.request('GET', `/api/v1/workflow_runs/${runId}/events`)).json().items as {
      type: string;
      nodeId?: string;
      item?: number;
    }[];
    expect(evs.filter((e) => e.type === 'gate.approved')).toMatchObject([{ nodeId: 'ask', item: 1 }]);
    expect(
      evs
        .filter((e) => e.type === 'node.waiting')
        .map((e) => e.item)
        .sort(),
    ).toEqual([0, 1]);

    // the same with both approved reaches the sub-workflow; the child links back
    const run2 = (await t.request('POST', `/api/v1/workflows/${wf.json().id}/run`, { body: { input: {} } })).json().id;
    await waitFor(t, run2, (s) => s === 'waiting');
    await t.request('POST', `/api/v1/workflow_runs/${run2}/nodes/ask/items/0/approve`, { body: {} });
    await t.request('POST', `/api/v1/workflow_runs/${run2}/nodes/ask/items/1/approve`, { body: {} });
    const rec = await waitFor(t, run2, (s) => s === 'succeeded' || s === 'failed');
    expect(rec.status).toBe('succeeded');
    expect(rec.nodes.sub.output).toMatchObject({ twice: 4, _run: rec.nodes.sub.childRunId });
    const childRec = (await t.request('GET', `/api/v1/workflow_runs/${rec.nodes.sub.childRunId}`)).json();
    expect(childRec).toMatchObject({ status: 'succeeded', parentRunId: run2, parentNodeId: 'sub' });
  });
});
