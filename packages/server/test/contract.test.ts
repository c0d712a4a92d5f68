/**
 * The contract: the OpenAPI document lists exactly the routes the server serves, and every
 * route refuses a caller without a token (401) and a principal without rights (403).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateWorkflow, json, startTestServer, type TestServer } from './helpers.ts';

type Op = {
  operationId: string;
  'x-trellis-access': { kind: string; role?: string };
  parameters: { name: string; in: string }[];
};

let t: TestServer;
let doc: { openapi: string; paths: Record<string, Record<string, Op>> };
let workflowId: string;
let runId: string;

beforeAll(async () => {
  t = await startTestServer();
  doc = json(await t.request('GET', '/api/v1/openapi.json', { token: null })) as typeof doc;
  workflowId = json(await t.request('POST', '/api/v1/workflows', { body: gateWorkflow() })).id;
  runId = json(await t.request('POST', `/api/v1/workflows/${workflowId}/run`, { body: {} })).id;
  await t.engine.waitForRun(runId, { orWaiting: true });
});
afterAll(async () => {
  await t.close();
});

function operations(): { method: string; path: string; op: Op }[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ method, path, op })));
}

function concrete(path: string, op: Op): string {
  const kind = op['x-trellis-access'].kind;
  return path
    .replace('{id}', kind === 'run' ? runId : path.startsWith('/api/v1/templates') ? 'tpl_missing' : workflowId)
    .replace('{v}', '1')
    .replace('{nodeId}', 'approve')
    .replace('{item}', '0');
}

const BODIES: Record<string, unknown> = {
  chat: () => ({ workflowId, message: 'hello' }),
  createTemplate: () => ({ workflowId }),
  updateWorkflow: () => gateWorkflow('renamed'),
  setWorkflowPermissions: () => [{ principal: 'carol', role: 'owner' }],
  startRun: () => ({}),
  testNode: () => ({ node: 'approve' }),
};
const bodyFor = (op: Op) => {
  const f = BODIES[op.operationId];
  return typeof f === 'function' ? f() : undefined;
};

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 and describes exactly the routes the server serves', () => {
    expect(doc.openapi).toBe('3.1.0');
    const documented = operations()
      .map(({ method, path }) => `${method.toUpperCase()} ${path}`)
      .sort();
    const served = [
      ...new Set(t.server.registeredRoutes.map((r) => `${r.method} ${r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`)),
    ].sort();
    expect(documented).toEqual(served);
    for (const must of [
      'POST /api/v1/workflows',
      'GET /api/v1/ws/workflow_runs/{id}',
      'POST /api/v1/chat',
      'GET /api/v1/openapi.json',
    ])
      expect(documented).toContain(must);
  });

  it('is rendered at /api/v1/docs without any external resource', async () => {
    const res = await t.request('GET', '/api/v1/docs', { token: null });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('openapi.json');
    expect(res.body).not.toMatch(/https?:\/\/(?!trellis\.dev)/);
  });
});

describe('authorisation on every route', () => {
  it('401 without a token, on every non-public route', async () => {
    const checked: string[] = [];
    for (const { method, path, op } of operations()) {
      if (op['x-trellis-access'].kind === 'public') continue;
      const body = bodyFor(op);
      const res = await t.request(method.toUpperCase() as 'GET', concrete(path, op), {
        token: null,
        ...(body !== undefined ? { body } : {}),
      });
      expect(res.statusCode, `${method} ${path}`).toBe(401);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.headers['www-authenticate']).toMatch(/Bearer/);
      checked.push(op.operationId);
    }
    expect(checked.length).toBeGreaterThan(15);
  });

  it('401 with a malformed, unknown or tampered token', async () => {
    for (const token of ['nope', 'trls_abc', `${t.tokens.alice.slice(0, -1)}x`, 'x'.repeat(600)]) {
      const res = await t.request('GET', '/api/v1/workflows', { token });
      expect(res.statusCode, token.slice(0, 20)).toBe(401);
    }
  });

  it('403 for a principal without rights on every protected route; owners pass', async () => {
    let forbidden = 0;
    for (const { method, path, op } of operations()) {
      const kind = op['x-trellis-access'].kind;
      if (kind === 'public') continue;
      const body = bodyFor(op);
      const url = concrete(path, op);
      const res = await t.request(method.toUpperCase() as 'GET', url, {
        token: t.tokens.carol,
        ...(body !== undefined ? { body } : {}),
      });
      if (kind === 'workflow' || kind === 'run' || kind === 'admin') {
        expect(res.statusCode, `${method} ${path}`).toBe(403);
        expect(json(res).detail).toMatch(/carol|administrator/);
        forbidden++;
      } else {
        expect([401, 403], `${method} ${path} (any user may call it)`).not.toContain(res.statusCode);
      }
      if (method === 'get' && kind !== 'admin') {
        const owner = await t.request('GET', url, { token: t.tokens.alice });
        expect([401, 403], `${method} ${path} as owner`).not.toContain(owner.statusCode);
      }
    }
    expect(forbidden).toBeGreaterThan(12);
  });

  it('a viewer may read but not run, cancel or decide', async () => {
    await t.request('PUT', `/api/v1/workflows/${workflowId}/permissions`, {
      body: [
        { principal: 'alice', role: 'owner' },
        { principal: 'bob', role: 'viewer' },
      ],
    });
    expect((await t.request('GET', `/api/v1/workflow_runs/${runId}`, { token: t.tokens.bob })).statusCode).toBe(200);
    expect((await t.request('POST', `/api/v1/workflows/${workflowId}/run`, { token: t.tokens.bob, body: {} })).statusCode).toBe(
      403,
    );
    expect((await t.request('POST', `/api/v1/workflow_runs/${runId}/cancel`, { token: t.tokens.bob })).statusCode).toBe(403);
    const decide = await t.request('POST', `/api/v1/workflow_runs/${runId}/nodes/approve/approve`, {
      token: t.tokens.bob,
      body: {},
    });
    expect(decide.statusCode).toBe(403);
    expect(json(decide).detail).toMatch(/viewer.*runner/);
  });
});
