import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { branchingWorkflow, gateWorkflow, json, startTestServer, type TestServer } from './helpers.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

describe('workflows API', () => {
  it('creates version 1, lists it, shows it with the compiled summary, and versions on PUT', async () => {
    const created = await t.request('POST', '/api/v1/workflows', { body: branchingWorkflow('wf-a') });
    expect(created.statusCode).toBe(201);
    const body = json(created);
    expect(body).toMatchObject({ version: 1, name: 'wf-a', owner: 'alice', latestVersion: 1 });
    expect(body.compiled.entries).toEqual(['fetch']);
    expect(created.headers.location).toBe(`/api/v1/workflows/${body.id}`);

    const list = json(await t.request('GET', '/api/v1/workflows'));
    expect(list.items.map((w: { id: string }) => w.id)).toContain(body.id);

    const got = json(await t.request('GET', `/api/v1/workflows/${body.id}`));
    expect(got).toMatchObject({ id: body.id, version: 1, role: 'owner', definition: { name: 'wf-a' } });
    expect(got.compiled.nodeCount).toBe(5);

    const put = await t.request('PUT', `/api/v1/workflows/${body.id}`, { body: branchingWorkflow('wf-a2') });
    expect(put.statusCode).toBe(200);
    expect(json(put)).toMatchObject({ version: 2, name: 'wf-a2' });
    const versions = json(await t.request('GET', `/api/v1/workflows/${body.id}/versions`));
    expect(versions.items.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    const v1 = json(await t.request('GET', `/api/v1/workflows/${body.id}/versions/1`));
    expect(v1.definition.name).toBe('wf-a');
    expect((await t.request('GET', `/api/v1/workflows/${body.id}/versions/9`)).statusCode).toBe(404);
  });

  it('answers 422 with every compiler problem and its code', async () => {
    const bad = {
      name: 'bad',
      nodes: [
        { id: 'a', type: 'transform', expression: '1' },
        { id: 'a', type: 'transform', expression: '2' },
        { id: 'b', type: 'teleport' },
      ],
      edges: [{ from: 'a', to: 'ghost' }],
    };
    const res = await t.request('POST', '/api/v1/workflows', { body: bad });
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const p = json(res);
    expect(p).toMatchObject({ status: 422, title: 'Unprocessable Content', code: 'DEFINITION_INVALID' });
    const codes = p.errors.map((e: { code: string }) => e.code);
    expect(codes).toEqual(expect.arrayContaining(['DUPLICATE_NODE_ID', 'INVALID_NODE_TYPE', 'UNKNOWN_NODE_REFERENCE']));
  });

  it('refuses to save a workflow naming an agent that is not registered (AGENT_NOT_FOUND)', async () => {
    const res = await t.request('POST', '/api/v1/workflows', {
      body: { name: 'agenty', nodes: [{ id: 'ask', type: 'agent_call', agent: 'nobody', skill: 'x' }] },
    });
    expect(res.statusCode).toBe(422);
    expect(json(res).errors[0]).toMatchObject({ code: 'AGENT_NOT_FOUND', nodes: ['ask'] });
  });

  it('applies inputSchema defaults to a run started through the API (the run record shows them)', async () => {
    const created = json(
      await t.request('POST', '/api/v1/workflows', {
        body: {
          name: 'defaults',
          inputSchema: {
            type: 'object',
            properties: { delayMs: { type: 'number', default: 8000 }, city: { type: 'string', default: 'Lisbon' } },
          },
          nodes: [{ id: 'echo', type: 'transform', expression: "$string($context.delayMs) & ' ' & $context.city" }],
        },
      }),
    );
    for (const body of [{ input: {} }, {}, { input: { city: 'Porto' } }]) {
      const run = json(await t.request('POST', `/api/v1/workflows/${created.id}/run`, { body }));
      let record: { status: string; input: unknown; output: unknown } | undefined;
      for (let i = 0; i < 100 && record?.status !== 'succeeded'; i++) {
        record = json(await t.request('GET', `/api/v1/workflow_runs/${run.id}`));
        if (record?.status !== 'succeeded') await new Promise((r) => setTimeout(r, 20));
      }
      const city = (body.input as { city?: string } | undefined)?.city ?? 'Lisbon';
      expect(record?.input).toEqual({ delayMs: 8000, city });
      expect(record?.output).toEqual({ echo: `8000 ${city}` });
    }
  });

  it('validates without saving', async () => {
    const ok = json(await t.request('POST', '/api/v1/workflows/validate', { body: branchingWorkflow() }));
    expect(ok).toMatchObject({ valid: true, errors: [] });
    expect(ok.compiled.order[0]).toBe('fetch');
    const bad = json(await t.request('POST', '/api/v1/workflows/validate', { body: { name: 'x', nodes: [] } }));
    expect(bad.valid).toBe(false);
    expect(bad.compiled).toBeNull();
    expect(bad.errors[0].code).toBe('SCHEMA');
  });

  it('DELETE hides the workflow; only owners may delete', async () => {
    const { id } = json(await t.request('POST', '/api/v1/workflows', { body: branchingWorkflow('to-delete') }));
    expect((await t.request('DELETE', `/api/v1/workflows/${id}`, { token: t.tokens.bob })).statusCode).toBe(403);
    expect((await t.request('DELETE', `/api/v1/workflows/${id}`)).statusCode).toBe(204);
    expect((await t.request('GET', `/api/v1/workflows/${id}`)).statusCode).toBe(404);
    expect((await t.request('PUT', `/api/v1/workflows/${id}`, { body: branchingWorkflow() })).statusCode).toBe(404);
    expect((await t.request('GET', `/api/v1/workflows/${id}/versions/1`)).statusCode).toBe(200);
  });

  it('DELETE cancels the runs that were still waiting at a gate (they would wait forever); they stay readable', async () => {
    const { id } = json(await t.request('POST', '/api/v1/workflows', { body: gateWorkflow('delete-waiting') }));
    const run = json(await t.request('POST', `/api/v1/workflows/${id}/run`, { body: { input: {} } }));
    const statusOf = async () => json(await t.request('GET', `/api/v1/workflow_runs/${run.id}`));
    for (let i = 0; i < 100 && (await statusOf()).status !== 'waiting'; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await statusOf()).status).toBe('waiting');
    expect((await t.request('DELETE', `/api/v1/workflows/${id}`)).statusCode).toBe(204);
    let after = await statusOf();
    for (let i = 0; i < 100 && after.status !== 'cancelled'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      after = await statusOf();
    }
    expect(after.status).toBe('cancelled');
    expect(JSON.stringify(after)).toContain("the workflow 'delete-waiting' was deleted");
  });

  it('paginates with a cursor and caps the page size', async () => {
    for (let i = 0; i < 5; i++)
      await t.request('POST', '/api/v1/workflows', { body: branchingWorkflow(`page-${i}`), token: t.tokens.carol });
    const first = json(await t.request('GET', '/api/v1/workflows?limit=2', { token: t.tokens.carol }));
    expect(first.items).toHaveLength(2);
    const second = json(
      await t.request('GET', `/api/v1/workflows?limit=2&cursor=${first.nextCursor}`, { token: t.tokens.carol }),
    );
    expect(second.items).toHaveLength(2);
    expect(second.items[0].id).not.toBe(first.items[0].id);
    const tooBig = await t.request('GET', '/api/v1/workflows?limit=100000', { token: t.tokens.carol });
    expect(tooBig.statusCode).toBe(400);
    expect(json(tooBig).detail).toMatch(/limit/);
  });

  it('permissions: the owner grants roles, which take effect; an owner must remain', async () => {
    const { id } = json(await t.request('POST', '/api/v1/workflows', { body: branchingWorkflow('shared') }));
    expect((await t.request('GET', `/api/v1/workflows/${id}`, { token: t.tokens.bob })).statusCode).toBe(403);
    const set = await t.request('PUT', `/api/v1/workflows/${id}/permissions`, {
      body: [
        { principal: 'alice', role: 'owner' },
        { principal: 'bob', role: 'viewer' },
      ],
    });
    expect(set.statusCode).toBe(200);
    expect((await t.request('GET', `/api/v1/workflows/${id}`, { token: t.tokens.bob })).statusCode).toBe(200);
    expect(
      (await t.request('PUT', `/api/v1/workflows/${id}`, { token: t.tokens.bob, body: branchingWorkflow() })).statusCode,
    ).toBe(403);
    const orphan = await t.request('PUT', `/api/v1/workflows/${id}/permissions`, {
      body: [{ principal: 'bob', role: 'viewer' }],
    });
    expect(orphan.statusCode).toBe(422);
    expect(json(orphan).detail).toMatch(/owner/);
    const badRole = await t.request('PUT', `/api/v1/workflows/${id}/permissions`, { body: [{ principal: 'bob', role: 'god' }] });
    expect(badRole.statusCode).toBe(400);
    expect(json(await t.request('GET', `/api/v1/workflows/${id}/permissions`, { token: t.tokens.bob }))).toEqual([
      { principal: 'alice', role: 'owner' },
      { principal: 'bob', role: 'viewer' },
    ]);
  });

  it('admins see and may do everything', async () => {
    const { id } = json(await t.request('POST', '/api/v1/workflows', { body: branchingWorkflow('admin-visible') }));
    const got = json(await t.request('GET', `/api/v1/workflows/${id}`, { token: t.tokens.admin }));
    expect(got.role).toBe('owner');
  });
});

describe('templates API', () => {
  it('creates a template from a workflow, lists it, and instantiates it as a new workflow', async () => {
    const { id } = json(await t.request('POST', '/api/v1/workflows', { body: branchingWorkflow('tpl-src') }));
    const created = await t.request('POST', '/api/v1/templates', { body: { workflowId: id, name: 'Branching pattern' } });
    expect(created.statusCode).toBe(201);
    const tpl = json(created);
    expect(tpl).toMatchObject({ name: 'Branching pattern', builtin: false, createdBy: 'alice' });
    const list = json(await t.request('GET', '/api/v1/templates', { token: t.tokens.bob }));
    expect(list.items.map((x: { id: string }) => x.id)).toContain(tpl.id);
    const inst = await t.request('POST', `/api/v1/templates/${tpl.id}/instantiate`, {
      token: t.tokens.bob,
      body: { name: 'bobs-copy' },
    });
    expect(inst.statusCode).toBe(201);
    expect(json(inst)).toMatchObject({ name: 'bobs-copy', owner: 'bob', version: 1 });
    expect((await t.request('POST', '/api/v1/templates/nope/instantiate', { body: {} })).statusCode).toBe(404);
    expect((await t.request('POST', '/api/v1/templates', { token: t.tokens.bob, body: { workflowId: id } })).statusCode).toBe(
      403,
    );
  });
});
