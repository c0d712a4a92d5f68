/**
 * Fuzz: thousands of malformed bodies, headers, query strings and ids sent to every route of
 * the OpenAPI document. Whatever arrives, the answer is a 4xx (or a success) — never a 5xx —
 * and the server keeps serving.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateWorkflow, json, startTestServer, type TestServer } from './helpers.ts';

let t: TestServer;
let routes: { method: string; path: string }[];
let workflowId: string;
let runId: string;

beforeAll(async () => {
  t = await startTestServer({ limits: { requestsPerMinute: 1_000_000 } });
  const doc = json(await t.request('GET', '/api/v1/openapi.json', { token: null }));
  routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
    Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path })),
  );
  workflowId = json(await t.request('POST', '/api/v1/workflows', { body: gateWorkflow() })).id;
  runId = json(await t.request('POST', `/api/v1/workflows/${workflowId}/run`, { body: {} })).id;
  await t.engine.waitForRun(runId, { orWaiting: true });
  // Finish the run: a live event stream of a run that waits forever never ends, and inject()
  // would wait for it (gate decisions on a waiting run are tested in runs.test.ts).
  await t.engine.decideGate(runId, 'approve', { approved: true, by: 'alice' });
  await t.engine.waitForRun(runId);
});
afterAll(async () => {
  await t.close();
});

const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  fc.constantFrom(
    '',
    ' ',
    '..',
    '../../etc/passwd',
    '%00',
    '%',
    '%zz',
    'null',
    '-1',
    '1e309',
    'NaN',
    '__proto__',
    'constructor',
    "'; drop table runs;--",
  ),
  fc.string({ minLength: 300, maxLength: 3000 }),
);

/** A path id: real ones (so the deeper checks run), or junk. */
const idArb = () => fc.oneof(fc.constant(workflowId), fc.constant(runId), fc.constant('approve'), fc.constant('1'), nasty);

function deep(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

const bodyArb = fc.oneof(
  fc.jsonValue().map((v) => ({ raw: JSON.stringify(v), type: 'application/json' })),
  fc.string().map((s) => ({ raw: s, type: 'application/json' })),
  fc
    .constantFrom(
      '{"name":',
      '{"__proto__":{"admin":true}}',
      '{"constructor":{"prototype":{"x":1}}}',
      'null',
      '[]',
      '"str"',
      '{"nodes":[{"id":"a","type":"transform","expression":"(("}],"name":"x"}',
      `{"name":"x","nodes":[{"id":"a","type":"transform","expression":"$x","input":${deep(5000, 'object')}}]}`,
      `{"input":${deep(5000, 'array')}}`,
      `{"workflowId":"${'x'.repeat(100)}","message":"hi"}`,
      '{"name":"x","nodes":[{"id":"a","type":"human_gate","prompt":"{{ $$$ }}"}]}',
    )
    .map((raw) => ({ raw, type: 'application/json' })),
  fc.record({
    raw: fc.string(),
    type: fc.constantFrom(
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      'application/json; charset=latin1',
      '',
      'garbage',
    ),
  }),
);

const headerArb = fc.record(
  {
    accept: fc.oneof(fc.constant('text/event-stream'), fc.constant('application/json'), nasty),
    'last-event-id': fc.oneof(fc.constant('3'), fc.constant('99999999999999999999'), nasty),
    'idempotency-key': fc.oneof(fc.constant('k1'), nasty),
    origin: fc.oneof(fc.constant('http://evil.example'), nasty),
    authorization: fc.oneof(
      fc.constant('Bearer'),
      fc.constant('Basic abc'),
      fc.constant('Bearer trls_'),
      nasty.map((s) => `Bearer ${s}`),
    ),
  },
  { requiredKeys: [] },
);

const queryArb = fc.dictionary(
  fc.constantFrom('limit', 'cursor', 'after', 'q', 'token', 'x', 'limit[]', '__proto__'),
  fc.oneof(fc.constantFrom('0', '-1', '1', '1.5', '1e3', '999999999999', 'abc', ''), nasty),
  { maxKeys: 3 },
);

function encodePathValue(v: string): string {
  // Mostly encoded, sometimes raw (a raw '%zz' or '/' reaches the router as is).
  return v.length % 5 === 0 ? v.replaceAll('?', '').replaceAll('#', '') : encodeURIComponent(v);
}

describe('fuzz every route', () => {
  it('never answers 5xx to malformed bodies, headers, queries and ids', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        idArb(),
        idArb(),
        bodyArb,
        headerArb,
        queryArb,
        fc.boolean(),
        async (pick, id, nodeId, body, headers, query, validToken) => {
          const route = routes[pick % routes.length]!;
          const path = route.path
            .replace('{id}', encodePathValue(id))
            .replace('{v}', encodePathValue(nodeId))
            .replace('{nodeId}', encodePathValue(nodeId));
          const qs = new URLSearchParams(query as Record<string, string>).toString();
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(headers)) if (typeof v === 'string') h[k] = v.replace(/[^\t\x20-\x7e]/g, '');
          if (validToken) h.authorization = `Bearer ${t.tokens.alice}`;
          if (route.method !== 'GET') h['content-type'] = body.type;
          const res = await t.server.app.inject({
            method: route.method as 'GET',
            url: `${path}${qs ? `?${qs}` : ''}`,
            headers: h,
            ...(route.method !== 'GET' ? { payload: body.raw } : {}),
          });
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          if (res.statusCode >= 500)
            throw new Error(
              `${route.method} ${path.slice(0, 100)} (body ${body.raw.slice(0, 80)}) → ${res.statusCode}: ${res.body.slice(0, 300)}`,
            );
          if (res.statusCode >= 400 && res.statusCode !== 404 && res.statusCode !== 426)
            expect(
              res.headers['content-type'],
              `${route.method} ${route.path} ${res.statusCode} ${res.body.slice(0, 200)}`,
            ).toMatch(/application\/problem\+json/);
        },
      ),
      {
        numRuns: 3000,
        endOnFailure: true,
        reporter: (r) => {
          if (r.failed) throw new Error(`fuzz failed after ${r.numRuns} runs: ${String(r.errorInstance).slice(0, 600)}`);
        },
      },
    );
    expect((statuses.get(400) ?? 0) + (statuses.get(401) ?? 0)).toBeGreaterThan(100);
    expect([...statuses.keys()].some((s) => s < 300)).toBe(true);
    const health = await t.request('GET', '/healthz', { token: null });
    expect(health.statusCode).toBe(200);
  }, 120_000);

  it('413 for a body over the limit, with a problem body', async () => {
    const res = await t.server.app.inject({
      method: 'POST',
      url: '/api/v1/workflows',
      headers: { authorization: `Bearer ${t.tokens.alice}`, 'content-type': 'application/json' },
      payload: `{"name":"${'x'.repeat(3 * 1024 * 1024)}"}`,
    });
    expect(res.statusCode).toBe(413);
    expect(json(res).code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('pathological JSON', () => {
  it('refuses bodies nested thousands of levels deep with 400, never a stack overflow', async () => {
    const deep = `{"name":"x","nodes":[{"id":"a","type":"transform","expression":"1","input":${'['.repeat(20_000)}${']'.repeat(20_000)}}]}`;
    for (const url of ['/api/v1/workflows', '/api/v1/workflows/validate', `/api/v1/workflows/${workflowId}/run`]) {
      const res = await t.server.app.inject({
        method: 'POST',
        url,
        headers: { authorization: `Bearer ${t.tokens.alice}`, 'content-type': 'application/json' },
        payload: url.endsWith('/run') ? `{"input":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}` : deep,
      });
      expect(res.statusCode, url).toBe(400);
      expect(json(res).detail).toMatch(/nested more than 128 levels/);
    }
  });
});
