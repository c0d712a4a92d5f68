/**
 * The agent and tool registries over HTTP, against the real demo A2A agents and the real pricing
 * MCP server on loopback (and a stdio MCP server started by the registry). Two servers share one
 * database: one whose outbound guard allows loopback (as `trellis serve --demo` does) and the
 * default one, which refuses loopback addresses as production does.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createConnectorExecutors } from '@trellis/connectors';
import { createOutboundGuard, LOOPBACK_ALLOW_HOSTS } from '@trellis/runtime';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoServices, startDemoServices } from '../../../examples/demo/services.ts';
import { buildServer, type TrellisServer } from '../src/index.ts';
import { json, startTestServer, type TestServer } from './helpers.ts';

const stdioEntry = resolve(import.meta.dirname, '../../../examples/mcp/stdio.ts');
const guard = createOutboundGuard({ allowHosts: LOOPBACK_ALLOW_HOSTS });

let t: TestServer;
let demo: DemoServices;
let loopback: TrellisServer;
let loopbackConnectors: ReturnType<typeof createConnectorExecutors>;
let bare: TrellisServer;
/** A card server we control: serves `card` (or 404 when undefined) at the well-known path. */
let cardServer: Server;
let cardBase: string;
let card: Record<string, unknown> | undefined;

function agentUrl(name: string): string {
  const a = demo.agents.find((x) => x.name === name);
  if (!a) throw new Error(`no demo agent ${name}`);
  return a.url;
}

/** A request to the loopback-allowing server (default caller: alice). */
function req(
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  o: { token?: string; body?: unknown; server?: TrellisServer } = {},
): Promise<LightMyRequestResponse> {
  return (o.server ?? loopback).app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${o.token ?? t.tokens.alice}` },
    ...(o.body !== undefined ? { payload: o.body as object } : {}),
  });
}

function expectProblem(res: LightMyRequestResponse, status: number, detail?: RegExp): void {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  if (detail) expect(json(res).detail).toMatch(detail);
}

beforeAll(async () => {
  t = await startTestServer();
  demo = await startDemoServices({ authenticated: false }); // authentication has its own tests (secrets)
  loopbackConnectors = createConnectorExecutors({ db: t.handle.db, guard });
  loopback = await buildServer({
    store: t.handle,
    engine: t.engine,
    connectors: loopbackConnectors,
    checkResponses: true,
    consoleDir: false,
  });
  bare = await buildServer({ store: t.handle, engine: t.engine, checkResponses: true, consoleDir: false });
  cardServer = createServer((request, response) => {
    if (card && request.url === '/.well-known/agent-card.json') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(card));
    } else response.writeHead(404, { 'content-type': 'text/plain' }).end('nothing here');
  });
  await new Promise<void>((r) => cardServer.listen(0, '127.0.0.1', r));
  cardBase = `http://127.0.0.1:${(cardServer.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await loopback?.app.close();
  await bare?.app.close();
  await loopbackConnectors?.close();
  await new Promise((r) => cardServer?.close(r));
  await demo?.close();
  await t?.close();
  await guard.close();
});

describe('agents', () => {
  let hotelId: string;

  it('registers an agent by URL: 201 with its skills and card', async () => {
    const res = await req('POST', '/agents', { body: { url: agentUrl('hotel-agent') } });
    expect(res.statusCode, res.body).toBe(201);
    const a = json(res);
    expect(a).toMatchObject({
      name: 'hotel-agent',
      url: agentUrl('hotel-agent'),
      createdBy: 'alice',
      skills: [{ id: 'search', name: 'Hotel search', description: 'Hotels for a city or query', tags: ['travel', 'hotels'] }],
    });
    expect(a.id).toMatch(/^agt_/);
    expect(a.card.name).toBe('hotel-agent');
    expect(res.headers.location).toBe(`/api/v1/agents/${a.id}`);
    hotelId = a.id;
    // By id and by name; the card is the one stored.
    expect(json(await req('GET', `/agents/${hotelId}`)).name).toBe('hotel-agent');
    expect(json(await req('GET', '/agents/hotel-agent', { token: t.tokens.carol })).id).toBe(hotelId);
  });

  it('registers under a chosen name; the agent-card URL works as well as the base URL', async () => {
    const res = await req('POST', '/agents', {
      token: t.tokens.bob,
      body: { url: `${agentUrl('price-analyst')}/.well-known/agent-card.json`, name: 'analyst' },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(json(res)).toMatchObject({ name: 'analyst', url: agentUrl('price-analyst'), createdBy: 'bob' });
    expect(json(res).skills.map((s: { id: string }) => s.id).length).toBeGreaterThan(0);
  });

  it('discovers by skill, tag and text, case-insensitively; empty filters are no filters', async () => {
    const names = async (qs: string) =>
      (json(await req('GET', `/agents${qs}`)).items as { name: string }[]).map((a) => a.name).sort();
    expect(await names('')).toEqual(['analyst', 'hotel-agent']);
    expect(await names('?skill=search')).toEqual(['hotel-agent']);
    expect(await names('?tag=TRAVEL')).toEqual(['hotel-agent']);
    expect(await names('?tag=pricing')).toEqual(['analyst']);
    expect(await names('?q=lisbon')).toEqual(['hotel-agent']);
    expect(await names('?q=nothing-like-this')).toEqual([]);
    expect(await names('?skill=search&tag=pricing')).toEqual([]);
    expect(await names('?skill=&tag=&q=')).toEqual(['analyst', 'hotel-agent']);
    expectProblem(await req('GET', `/agents?q=${'x'.repeat(201)}`), 400);
  });

  it('409 on a duplicate URL or a duplicate name, saying what to do', async () => {
    expectProblem(await req('POST', '/agents', { body: { url: agentUrl('hotel-agent') } }), 409, /already registered.*refresh/);
    const dupName = await req('POST', '/agents', { body: { url: agentUrl('slow-agent'), name: 'hotel-agent' } });
    expectProblem(dupName, 409, /named "hotel-agent" is already registered/);
    expect(json(dupName).code).toBe('CONFLICT');
  });

  it('422 for a URL that serves no agent card, or an invalid one', async () => {
    card = undefined;
    const none = await req('POST', '/agents', { body: { url: cardBase } });
    expectProblem(none, 422, /agent card/);
    expect(json(none).code).toBe('INPUT_INVALID');
    card = { name: 'broken' };
    expectProblem(await req('POST', '/agents', { body: { url: cardBase } }), 422, /card .* is invalid: .*interface/);
    expect(json(await req('GET', '/agents')).items).toHaveLength(2);
  });

  it('422 for a loopback address when loopback is not allowed, naming TRELLIS_ALLOW_HOSTS', async () => {
    const res = await req('POST', '/agents', { server: t.server, body: { url: agentUrl('slow-agent') } });
    expectProblem(res, 422, /OUTBOUND_BLOCKED.*TRELLIS_ALLOW_HOSTS/);
  });

  it('400 for a malformed body, before anything is fetched', async () => {
    expectProblem(await req('POST', '/agents', { body: { url: 'not a url' } }), 400);
    expectProblem(await req('POST', '/agents', { body: { url: agentUrl('slow-agent'), extra: 1 } }), 400);
    expectProblem(await req('POST', '/agents', { body: { url: 'ftp://example.com/agent' } }), 422, /http or https/);
  });

  it('refresh: the creator or an admin; `changed` tells whether the card moved', async () => {
    // An agent whose card we control, registered by bob.
    const source = json(await req('GET', `/agents/${hotelId}`)).card as Record<string, unknown>;
    card = { ...source, name: 'mutable' };
    const reg = await req('POST', '/agents', { token: t.tokens.bob, body: { url: cardBase } });
    expect(reg.statusCode, reg.body).toBe(201);
    const id = json(reg).id as string;
    const same = await req('POST', `/agents/${id}/refresh`, { token: t.tokens.bob });
    expect(same.statusCode, same.body).toBe(200);
    expect(json(same).changed).toBe(false);
    card = { ...card, description: 'now with a new description' };
    const moved = await req('POST', `/agents/${id}/refresh`, { token: t.tokens.admin });
    expect(json(moved)).toMatchObject({ changed: true, description: 'now with a new description' });
    expect(json(moved).cardHash).not.toBe(json(same).cardHash);
    expectProblem(await req('POST', `/agents/${id}/refresh`, { token: t.tokens.carol }), 403, /only 'bob'.*administrator/);
    card = undefined;
    expectProblem(await req('POST', `/agents/${id}/refresh`, { token: t.tokens.bob }), 422, /agent card/);
    expectProblem(await req('POST', '/agents/agt_missing/refresh'), 404, /no agent 'agt_missing'/);
    expect((await req('DELETE', `/agents/${id}`, { token: t.tokens.bob })).statusCode).toBe(204);
  });

  it('delete: 403 for another user, 204 for the creator, then 404', async () => {
    expectProblem(await req('DELETE', `/agents/${hotelId}`, { token: t.tokens.carol }), 403, /carol/);
    expect((await req('DELETE', `/agents/${hotelId}`)).statusCode).toBe(204);
    expectProblem(await req('GET', `/agents/${hotelId}`), 404);
    expectProblem(await req('DELETE', `/agents/${hotelId}`), 404);
    // An admin may remove anyone's.
    expect((await req('DELETE', '/agents/analyst', { token: t.tokens.admin })).statusCode).toBe(204);
    expect(json(await req('GET', '/agents')).items).toEqual([]);
  });
});

describe('tool servers and tools', () => {
  const pricingUrl = () => demo.toolServers[0]?.url as string;
  let pricingId: string;

  it('registers a Streamable HTTP server: 201 with its tools and their input schemas', async () => {
    const res = await req('POST', '/tool_servers', { token: t.tokens.bob, body: { name: 'pricing', url: pricingUrl() } });
    expect(res.statusCode, res.body).toBe(201);
    const s = json(res);
    expect(s).toMatchObject({ name: 'pricing', transport: 'http', url: pricingUrl(), command: null, createdBy: 'bob' });
    const names = (s.tools as { name: string }[]).map((x) => x.name).sort();
    expect(names).toEqual(['convert', 'fail', 'filter', 'quote', 'sleep']);
    expect(s.tools.find((x: { name: string }) => x.name === 'filter').inputSchema).toMatchObject({
      type: 'object',
      required: ['hotels', 'max_price'],
    });
    pricingId = s.id;
    expect(json(await req('GET', '/tool_servers/pricing')).id).toBe(pricingId);
  });

  it('GET /tools lists every tool as <server>/<tool>; filters by server and text', async () => {
    const all = json(await req('GET', '/tools', { token: t.tokens.carol })).items as {
      id: string;
      name: string;
      server: string;
      inputSchema: unknown;
    }[];
    expect(all.map((x) => x.id).sort()).toEqual([
      'pricing/convert',
      'pricing/fail',
      'pricing/filter',
      'pricing/quote',
      'pricing/sleep',
    ]);
    expect(all.find((x) => x.id === 'pricing/filter')).toMatchObject({ name: 'filter', server: 'pricing', serverId: pricingId });
    expect((json(await req('GET', '/tools?q=FILTER')).items as { id: string }[]).map((x) => x.id)).toEqual(['pricing/filter']);
    expect(json(await req('GET', '/tools?server=nope')).items).toEqual([]);
    expect(json(await req('GET', `/tools?server=${pricingId}`)).items).toHaveLength(5);
  });

  it('409 on a duplicate name; 422 for a refused address, a non-MCP URL or a bad name', async () => {
    expectProblem(await req('POST', '/tool_servers', { body: { name: 'pricing', url: pricingUrl() } }), 409, /"pricing"/);
    expectProblem(
      await req('POST', '/tool_servers', { server: t.server, body: { name: 'other', url: pricingUrl() } }),
      422,
      /TRELLIS_ALLOW_HOSTS/,
    );
    const notMcp = await req('POST', '/tool_servers', { body: { name: 'web', url: cardBase } });
    expectProblem(notMcp, 422, /cannot use the MCP server "web"/);
    expectProblem(await req('POST', '/tool_servers', { body: { name: 'bad name!', url: pricingUrl() } }), 400);
    expectProblem(await req('POST', '/tool_servers', { body: { name: 'x' } }), 400, /either "url".*or "command"/);
    const both = await req('POST', '/tool_servers', {
      token: t.tokens.admin,
      body: { name: 'x', url: pricingUrl(), command: 'ls' },
    });
    expectProblem(both, 400, /not both/);
    expect(json(both).errors[0].path).toBe('/body/command');
    expect(json(await req('GET', '/tool_servers')).items).toHaveLength(1);
  });

  it('stdio: 403 for a non-admin (nothing is started), registered for an admin; args hidden from others', async () => {
    const body = { name: 'local', command: process.execPath, args: ['--import', 'tsx', stdioEntry] };
    expectProblem(await req('POST', '/tool_servers', { body }), 403, /administrators/);
    const res = await req('POST', '/tool_servers', { token: t.tokens.admin, body });
    expect(res.statusCode, res.body).toBe(201);
    expect(json(res)).toMatchObject({ name: 'local', transport: 'stdio', command: process.execPath, args: body.args });
    expect(json(res).tools.length).toBeGreaterThan(0);
    const seenByAlice = (json(await req('GET', '/tool_servers')).items as { name: string; args?: string[] }[]).find(
      (s) => s.name === 'local',
    );
    expect(seenByAlice).toBeDefined();
    expect(seenByAlice?.args).toBeUndefined();
    const ids = (json(await req('GET', '/tools')).items as { id: string }[]).map((x) => x.id);
    expect(ids.some((id) => id.startsWith('local/'))).toBe(true);
    expect((await req('DELETE', '/tool_servers/local', { token: t.tokens.admin })).statusCode).toBe(204);
  }, 30_000);

  it('refresh and delete: the creator or an admin; then 404 and its tools are gone', async () => {
    const refreshed = await req('POST', `/tool_servers/${pricingId}/refresh`, { token: t.tokens.bob });
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    expect(json(refreshed).tools).toHaveLength(5);
    expectProblem(await req('POST', `/tool_servers/${pricingId}/refresh`, { token: t.tokens.alice }), 403, /only 'bob'/);
    expectProblem(await req('DELETE', `/tool_servers/${pricingId}`, { token: t.tokens.alice }), 403, /alice/);
    expect((await req('DELETE', `/tool_servers/${pricingId}`, { token: t.tokens.bob })).statusCode).toBe(204);
    expectProblem(await req('DELETE', `/tool_servers/${pricingId}`, { token: t.tokens.bob }), 404);
    expectProblem(await req('GET', '/tool_servers/pricing'), 404);
    expect(json(await req('GET', '/tools')).items).toEqual([]);
  });
});

describe('workflows see what the registries hold', () => {
  const def = (name: string) => ({
    name,
    nodes: [
      { id: 'search', type: 'agent_call', agent: 'hotel-agent', skill: 'search', input: { query: 'lisbon' } },
      { id: 'cheap', type: 'tool_call', tool: 'pricing/filter', input: { hotels: '$search.hotels', max_price: 200 } },
    ],
    edges: [{ from: 'search', to: 'cheap' }],
  });

  it('a definition naming a registered agent skill and MCP tool saves; once they are removed it is refused (422)', async () => {
    const agent = json(await req('POST', '/agents', { body: { url: agentUrl('hotel-agent') } }));
    const server = json(await req('POST', '/tool_servers', { body: { name: 'pricing', url: demo.toolServers[0]?.url } }));
    const saved = await req('POST', '/workflows', { body: def('uses-registries') });
    expect(saved.statusCode, saved.body).toBe(201);
    expect((await req('DELETE', `/agents/${agent.id}`)).statusCode).toBe(204);
    expect((await req('DELETE', `/tool_servers/${server.id}`)).statusCode).toBe(204);
    const refused = await req('POST', '/workflows', { body: def('dangling') });
    expectProblem(refused, 422);
    expect(json(refused).errors).toEqual([
      expect.objectContaining({ code: 'AGENT_NOT_FOUND', nodes: ['search'], path: '/nodes/0/agent' }),
      expect.objectContaining({ code: 'TOOL_NOT_FOUND', nodes: ['cheap'], path: '/nodes/1/tool' }),
    ]);
  });
});

describe('validating and saving agree (the same checks, the same codes)', () => {
  it('POST /workflows/validate refuses exactly what POST /workflows refuses, body for body', async () => {
    const agent = json(await req('POST', '/agents', { body: { url: agentUrl('hotel-agent') } }));
    const server = json(await req('POST', '/tool_servers', { body: { name: 'pricing', url: demo.toolServers[0]?.url } }));
    const wf = (name: string, nodes: unknown[]) => ({ name, nodes, edges: [] });
    const bodies: [label: string, body: unknown, codes: string[]][] = [
      ['registered agent and tool', wf('ok', [{ id: 's', type: 'agent_call', agent: 'hotel-agent', skill: 'search' }]), []],
      ['unknown agent', wf('a', [{ id: 's', type: 'agent_call', agent: 'nobody', skill: 'search' }]), ['AGENT_NOT_FOUND']],
      ['unknown skill', wf('b', [{ id: 's', type: 'agent_call', agent: 'hotel-agent', skill: 'fly' }]), ['UNKNOWN_AGENT_SKILL']],
      ['unknown tool', wf('c', [{ id: 't', type: 'tool_call', tool: 'pricing/teleport', input: {} }]), ['TOOL_NOT_FOUND']],
      [
        'bad literal tool input',
        wf('d', [{ id: 't', type: 'tool_call', tool: 'pricing/filter', input: { hotels: 'none', max_price: 200 } }]),
        ['TOOL_INPUT_INVALID'],
      ],
      ['compiler problem', wf('e', [{ id: 't', type: 'teleport' }]), ['INVALID_NODE_TYPE']],
      [
        'all at once',
        {
          ...wf('f', [
            { id: 's', type: 'agent_call', agent: 'nobody' },
            { id: 't', type: 'tool_call', tool: 'nowhere/x' },
          ]),
          edges: [{ from: 's', to: 't' }],
        },
        ['AGENT_NOT_FOUND', 'TOOL_NOT_FOUND'],
      ],
    ];
    try {
      for (const [label, body, codes] of bodies) {
        const verdict = json(await req('POST', '/workflows/validate', { body }));
        const saved = await req('POST', '/workflows', { body });
        expect(verdict.valid, label).toBe(codes.length === 0);
        expect(
          verdict.errors.map((e: { code: string }) => e.code),
          label,
        ).toEqual(codes);
        if (codes.length === 0) {
          expect(saved.statusCode, label).toBe(201);
          expect(verdict.compiled, label).toEqual(json(saved).compiled);
        } else {
          expectProblem(saved, 422);
          expect(json(saved).errors, label).toEqual(verdict.errors);
        }
      }
    } finally {
      await req('DELETE', `/agents/${agent.id}`);
      await req('DELETE', `/tool_servers/${server.id}`);
    }
  });
});

describe('a server without registries', () => {
  it('answers 503 problem+json on every registry route, never a crash', async () => {
    const calls: [method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown][] = [
      ['GET', '/agents'],
      ['POST', '/agents', { url: 'https://agent.example.com' }],
      ['GET', '/agents/a'],
      ['POST', '/agents/a/refresh'],
      ['DELETE', '/agents/a'],
      ['GET', '/tool_servers'],
      ['POST', '/tool_servers', { name: 'x', url: 'https://tools.example.com/mcp' }],
      ['GET', '/tool_servers/x'],
      ['POST', '/tool_servers/x/refresh'],
      ['DELETE', '/tool_servers/x'],
      ['GET', '/tools'],
    ];
    for (const [method, url, body] of calls) {
      const res = await req(method, url, { server: bare, body });
      expectProblem(res, 503, /registries are not configured/);
    }
  });

  it('still needs a token', async () => {
    const res = await bare.app.inject({ method: 'GET', url: '/api/v1/agents' });
    expect(res.statusCode).toBe(401);
  });
});
