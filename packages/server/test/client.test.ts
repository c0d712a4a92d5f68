/**
 * The typed client (@trellis/client) against a real server: its operation table matches the
 * OpenAPI document the server serves (every operation, method, path, request body and success
 * response schema), and its calls work over HTTP, including the errors a caller handles.
 */
import { NOT_IN_CLIENT, type OperationId, operations, TrellisApiError, TrellisClient } from '@trellis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openApiPath } from '../src/http/openapi.ts';
import { branchingWorkflow, gateWorkflow, json, startTestServer, type TestServer } from './helpers.ts';

type DocOp = {
  operationId: string;
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
};

let t: TestServer;
let doc: { paths: Record<string, Record<string, DocOp>> };
let baseUrl: string;

beforeAll(async () => {
  t = await startTestServer();
  doc = json(await t.request('GET', '/api/v1/openapi.json', { token: null }));
  await t.server.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.server.app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  baseUrl = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  await t.close();
});

function documented(): Map<string, { method: string; path: string; op: DocOp }> {
  const out = new Map<string, { method: string; path: string; op: DocOp }>();
  for (const [path, ops] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(ops)) out.set(op.operationId, { method: method.toUpperCase(), path, op });
  return out;
}

function jsonSchemaOf(schema: z.ZodType): unknown {
  const s = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>;
  delete s.$schema;
  return s;
}

describe('the client and the OpenAPI document', () => {
  it('name the same operations, with the same method and path', () => {
    const docOps = documented();
    const clientIds = Object.keys(operations).sort();
    const docIds = [...docOps.keys()].filter((id) => !(NOT_IN_CLIENT as readonly string[]).includes(id)).sort();
    expect(clientIds).toEqual(docIds);
    for (const id of clientIds) {
      const spec = operations[id as OperationId];
      const d = docOps.get(id)!;
      expect(`${spec.method} ${openApiPath(spec.path)}`, id).toBe(`${d.method} ${d.path}`);
    }
  });

  it('agree on which operations take a body and on every success response schema', () => {
    const docOps = documented();
    for (const [id, spec] of Object.entries(operations)) {
      const d = docOps.get(id)!;
      expect('body' in spec, `${id}: request body`).toBe(d.op.requestBody !== undefined);
      const docSuccess = Object.keys(d.op.responses).filter((s) => /^2\d\d$/.test(s));
      expect(Object.keys(spec.responses).sort(), `${id}: success statuses`).toEqual(docSuccess.sort());
      for (const [status, schema] of Object.entries(spec.responses as Record<string, z.ZodType | null>)) {
        const content = d.op.responses[status]?.content?.['application/json'];
        if (schema === null) expect(content, `${id} ${status}: no body`).toBeUndefined();
        else expect(jsonSchemaOf(schema), `${id} ${status}: response schema`).toEqual(content?.schema);
      }
    }
  });
});

describe('the client over HTTP', () => {
  it('creates, validates, starts, decides and reads runs, parsing every answer', async () => {
    const client = new TrellisClient({ baseUrl, token: t.tokens.alice });
    const check = await client.validateWorkflow(branchingWorkflow());
    expect(check).toMatchObject({ valid: true, errors: [] });
    const invalid = await client.validateWorkflow({ name: 'x', nodes: [{ id: 'a', type: 'nope' }], edges: [] });
    expect(invalid.valid).toBe(false);
    expect(invalid.errors.length).toBeGreaterThan(0);

    const wf = await client.call('createWorkflow', { body: gateWorkflow('client') });
    expect(wf.latestVersion).toBe(1);
    const page = await client.call('listWorkflows', { query: { q: 'client' } });
    expect(page.items.map((w) => w.id)).toContain(wf.id);

    const started = await client.startRun(wf.id, {}, { idempotencyKey: 'client-test-1' });
    expect(started.created).toBe(true);
    const again = await client.startRun(wf.id, {}, { idempotencyKey: 'client-test-1' });
    expect(again).toMatchObject({ id: started.id, created: false });

    const waiting = await client.waitForRun(started.id, { orWaiting: true, intervalMs: 20, timeoutMs: 20_000 });
    expect(waiting.status).toBe('waiting');
    expect(waiting.nodes.approve?.status).toBe('waiting');
    const decided = await client.decideGate(started.id, 'approve', 'approve', { comment: 'ok' });
    expect(decided).toMatchObject({ decision: 'approved', by: 'alice' });
    const done = await client.waitForRun(started.id, { intervalMs: 20, timeoutMs: 20_000 });
    expect(done.status).toBe('succeeded');
    const events = await client.listRunEvents(started.id);
    expect(events[0]?.type).toBe('run.queued');
    expect(events.at(-1)?.type).toBe('run.succeeded');
    expect(client.runSocketUrl(started.id, 3)).toBe(
      `${baseUrl.replace('http', 'ws')}/api/v1/ws/workflow_runs/${started.id}?after=3&token=${t.tokens.alice}`,
    );
  });

  it('throws TrellisApiError with the problem code, and signals 401', async () => {
    const client = new TrellisClient({ baseUrl, token: t.tokens.alice });
    const missing = await client.getRun('run_missing').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(TrellisApiError);
    expect(missing).toMatchObject({ status: 404, kind: 'not_found', code: 'NOT_FOUND' });

    const invalid = await client.call('createWorkflow', { body: { name: 'x', nodes: [], edges: [] } }).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ status: 422, kind: 'invalid' });
    expect((invalid as TrellisApiError).errors.length).toBeGreaterThan(0);

    let signedOut = 0;
    const stranger = new TrellisClient({ baseUrl, token: 'not-a-token', onUnauthorized: () => signedOut++ });
    await expect(stranger.call('whoAmI')).rejects.toMatchObject({ status: 401, kind: 'unauthorized' });
    expect(signedOut).toBe(1);

    const nowhere = new TrellisClient({ baseUrl: 'http://127.0.0.1:1', token: 'x' });
    await expect(nowhere.call('health')).rejects.toMatchObject({ status: 0, kind: 'network', code: 'NETWORK' });
  });

  it('refuses a response that does not match the schema instead of guessing', async () => {
    const lying = new TrellisClient({
      baseUrl,
      token: 'x',
      fetch: async () => new Response(JSON.stringify([{ id: 'r1' }]), { status: 200 }),
    });
    const err = await lying.getRun('r1').catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'bad_response', code: 'BAD_RESPONSE' });
    expect((err as Error).message).toMatch(/getRun answered with a body that does not match the API schema/);
  });
});
