import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { branchingWorkflow, gateWorkflow, json, startTestServer, type TestServer } from './helpers.ts';

let t: TestServer;
let branching: string;
let gated: string;
beforeAll(async () => {
  t = await startTestServer();
  branching = json(await t.request('POST', '/api/v1/workflows', { body: branchingWorkflow() })).id;
  gated = json(await t.request('POST', '/api/v1/workflows', { body: gateWorkflow() })).id;
});
afterAll(async () => {
  await t.close();
});

async function start(workflowId: string, body: unknown = {}, headers: Record<string, string> = {}) {
  return t.request('POST', `/api/v1/workflows/${workflowId}/run`, { body, headers });
}

describe('runs API', () => {
  it('starts a run, which takes the conditional branch; the record lists every node', async () => {
    const res = await start(branching, { input: { n: 42 } });
    expect(res.statusCode).toBe(201);
    const { id, version, created } = json(res);
    expect({ version, created }).toEqual({ version: 1, created: true });
    await t.engine.waitForRun(id);
    const run = json(await t.request('GET', `/api/v1/workflow_runs/${id}`));
    expect(run).toMatchObject({ id, workflowId: branching, version: 1, status: 'succeeded', createdBy: 'alice' });
    expect(run.nodes.big.status).toBe('succeeded');
    expect(run.nodes.small.status).toBe('skipped');
    expect(run.output).toEqual({ big: { size: 'big', n: 42 }, small: null });
    expect(Object.keys(run.nodes).sort()).toEqual(['big', 'done', 'fetch', 'is_big', 'small']);
  });

  it('the same Idempotency-Key returns the same run (200)', async () => {
    const a = await start(branching, { input: { n: 1 } }, { 'idempotency-key': 'order-77' });
    const b = await start(branching, { input: { n: 1 } }, { 'idempotency-key': 'order-77' });
    expect(a.statusCode).toBe(201);
    expect(b.statusCode).toBe(200);
    expect(json(b).id).toBe(json(a).id);
    expect(json(b).created).toBe(false);
    const bad = await start(branching, {}, { 'idempotency-key': 'has space' });
    expect(bad.statusCode).toBe(400);
  });

  it('422 when the input violates the inputSchema; 404 for an unknown version', async () => {
    const res = await start(branching, { input: { n: 'not a number' } });
    expect(res.statusCode).toBe(422);
    expect(json(res).code).toBe('INPUT_INVALID');
    expect((await start(branching, { version: 99 })).statusCode).toBe(404);
    expect((await start(branching, { bogus: 1 })).statusCode).toBe(400);
  });

  it('a PUT makes a new version; older runs keep theirs; history pages with a cursor', async () => {
    const before = json(await start(branching, { input: { n: 2 } })).id;
    await t.request('PUT', `/api/v1/workflows/${branching}`, { body: branchingWorkflow('branching-v2') });
    const after = json(await start(branching, { input: { n: 2 } }));
    expect(after.version).toBe(2);
    await t.engine.waitForRun(after.id);
    expect(json(await t.request('GET', `/api/v1/workflow_runs/${before}`)).version).toBe(1);
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const page: { items: { id: string }[]; nextCursor: string | null } = json(
        await t.request('GET', `/api/v1/workflows/${branching}/runs?limit=2${cursor ? `&cursor=${cursor}` : ''}`),
      );
      for (const r of page.items) {
        expect(seen.has(r.id)).toBe(false);
        seen.add(r.id);
      }
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.has(before)).toBe(true);
    expect(seen.size).toBeGreaterThanOrEqual(4);
  });

  it('a deleted workflow refuses new runs but its runs stay readable', async () => {
    const wf = json(await t.request('POST', '/api/v1/workflows', { body: branchingWorkflow('doomed') })).id;
    const { id } = json(await start(wf, { input: { n: 5 } }));
    await t.engine.waitForRun(id);
    expect((await t.request('DELETE', `/api/v1/workflows/${wf}`)).statusCode).toBe(204);
    expect((await start(wf)).statusCode).toBe(404);
    const run = await t.request('GET', `/api/v1/workflow_runs/${id}`);
    expect(run.statusCode).toBe(200);
    expect(json(run).status).toBe('succeeded');
    expect(json(await t.request('GET', `/api/v1/workflow_runs/${id}/events`)).items.length).toBeGreaterThan(5);
    expect((await t.request('GET', `/api/v1/workflow_runs/${id}`, { token: t.tokens.bob })).statusCode).toBe(403);
  });

  it('approves a waiting gate, records who decided, and refuses a second decision with 409', async () => {
    const { id } = json(await start(gated));
    const waiting = await t.engine.waitForRun(id, { orWaiting: true });
    expect(waiting.status).toBe('waiting');
    const early = await t.request('POST', `/api/v1/workflow_runs/${id}/nodes/after/approve`, { body: {} });
    expect(early.statusCode).toBe(409);
    const ok = await t.request('POST', `/api/v1/workflow_runs/${id}/nodes/approve/approve`, {
      body: { comment: 'go', data: { qty: 2 } },
    });
    expect(ok.statusCode).toBe(200);
    expect(json(ok)).toEqual({ runId: id, nodeId: 'approve', decision: 'approved', by: 'alice' });
    const again = await t.request('POST', `/api/v1/workflow_runs/${id}/nodes/approve/reject`, { body: {} });
    expect(again.statusCode).toBe(409);
    const done = await t.engine.waitForRun(id);
    expect(done.status).toBe('succeeded');
    expect(done.nodes.approve?.output).toMatchObject({ approved: true, by: 'alice', comment: 'go', data: { qty: 2 } });
    const events = json(await t.request('GET', `/api/v1/workflow_runs/${id}/events`)).items;
    expect(events.find((e: { type: string }) => e.type === 'gate.approved').data.by).toBe('alice');
    expect((await t.request('POST', `/api/v1/workflow_runs/${id}/nodes/nope/approve`, { body: {} })).statusCode).toBe(404);
  });

  it('of two concurrent decisions exactly one wins', async () => {
    const { id } = json(await start(gated));
    await t.engine.waitForRun(id, { orWaiting: true });
    const results = await Promise.all([
      t.request('POST', `/api/v1/workflow_runs/${id}/nodes/approve/approve`, { body: {} }),
      t.request('POST', `/api/v1/workflow_runs/${id}/nodes/approve/reject`, { body: {}, headers: {}, token: t.tokens.admin }),
    ]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    const final = await t.engine.waitForRun(id);
    expect(['succeeded', 'failed']).toContain(final.status);
  });

  it('cancels a running run (202)', async () => {
    const slow = json(
      await t.request('POST', '/api/v1/workflows', {
        body: { name: 'slow', nodes: [{ id: 'wait', type: 'tool_call', tool: 'test.echo', input: { delayMs: 10_000 } }] },
      }),
    ).id;
    const { id } = json(await start(slow));
    for (let i = 0; i < 100 && json(await t.request('GET', `/api/v1/workflow_runs/${id}`)).nodes.wait.status !== 'running'; i++)
      await new Promise((r) => setTimeout(r, 20));
    const res = await t.request('POST', `/api/v1/workflow_runs/${id}/cancel`);
    expect(res.statusCode).toBe(202);
    const run = await t.engine.waitForRun(id);
    expect(run.status).toBe('cancelled');
    expect((await t.request('POST', '/api/v1/workflow_runs/nope/cancel')).statusCode).toBe(404);
  });

  it('lists events after a seq, as JSON and as SSE resuming from Last-Event-ID', async () => {
    const { id } = json(await start(branching, { input: { n: 3 } }));
    await t.engine.waitForRun(id);
    const all = json(await t.request('GET', `/api/v1/workflow_runs/${id}/events`)).items as { seq: number; type: string }[];
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    expect(all.at(-1)?.type).toBe('run.succeeded');
    const tail = json(await t.request('GET', `/api/v1/workflow_runs/${id}/events?after=3`)).items as { seq: number }[];
    expect(tail[0]?.seq).toBe(4);

    const sse = await t.request('GET', `/api/v1/workflow_runs/${id}/events`, {
      headers: { accept: 'text/event-stream', 'last-event-id': '5' },
    });
    expect(sse.headers['content-type']).toMatch(/text\/event-stream/);
    const ids = [...sse.body.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual(all.filter((e) => e.seq > 5).map((e) => e.seq));
    expect(sse.body).toMatch(/event: end\n/);
    const bad = await t.request('GET', `/api/v1/workflow_runs/${id}/events`, {
      headers: { accept: 'text/event-stream', 'last-event-id': 'abc' },
    });
    expect(bad.statusCode).toBe(400);
  });
});

describe('chat', () => {
  let chatWf: string;
  beforeAll(async () => {
    chatWf = json(
      await t.request('POST', '/api/v1/workflows', {
        body: {
          name: 'echo-chat',
          inputSchema: { type: 'object', required: ['message'], properties: { message: { type: 'string' } } },
          nodes: [{ id: 'reply', type: 'transform', expression: "'you said: ' & $context.message" }],
        },
      }),
    ).id;
  });

  it('answers with the run output as JSON', async () => {
    const res = await t.request('POST', '/api/v1/chat', { body: { workflowId: chatWf, message: 'hi' } });
    expect(res.statusCode).toBe(200);
    expect(json(res)).toMatchObject({ status: 'succeeded', output: { reply: 'you said: hi' }, error: null });
  });

  it('streams progress and the final output over SSE', async () => {
    const res = await t.request('POST', '/api/v1/chat', {
      body: { workflowId: chatWf, message: 'yo' },
      headers: { accept: 'text/event-stream' },
    });
    expect(res.body).toMatch(/event: node\.started/);
    const output = /event: output\ndata: (.*)\n/.exec(res.body);
    expect(JSON.parse(output?.[1] ?? '{}')).toMatchObject({ status: 'succeeded', output: { reply: 'you said: yo' } });
  });

  it('refuses principals without the runner role and unknown workflows', async () => {
    expect(
      (await t.request('POST', '/api/v1/chat', { token: t.tokens.bob, body: { workflowId: chatWf, message: 'x' } })).statusCode,
    ).toBe(403);
    expect((await t.request('POST', '/api/v1/chat', { body: { workflowId: 'wf_nope', message: 'x' } })).statusCode).toBe(404);
    expect((await t.request('POST', '/api/v1/chat', { body: { workflowId: chatWf } })).statusCode).toBe(400);
  });
});

describe('workflow lists', () => {
  it('show each workflow with its newest run, or null before the first', async () => {
    const fresh = json(await t.request('POST', '/api/v1/workflows', { body: branchingWorkflow('never-run') })).id;
    const first = json(await start(branching, { input: { n: 3 } })).id;
    await t.engine.waitForRun(first);
    const newest = json(await start(branching, { input: { n: 4 } })).id;
    await t.engine.waitForRun(newest);
    const items = json(await t.request('GET', '/api/v1/workflows?limit=200')).items as {
      id: string;
      lastRun: { id: string; status: string } | null;
    }[];
    expect(items.find((w) => w.id === fresh)?.lastRun).toBeNull();
    expect(items.find((w) => w.id === branching)?.lastRun).toMatchObject({ id: newest, status: 'succeeded' });
  });
});
