import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile, type NodeDefinition, type WorkflowDefinition, workflowDefinitionSchema } from '@trellis/core';
import { createOutboundGuard, LOOPBACK_ALLOW_HOSTS, vaultSecretSource } from '@trellis/runtime';
import { openSqlite, SecretVault, type SqliteHandle, secretKeySource } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoServices, demoWorkflows, startDemoServices } from '../../../examples/demo/services.ts';
import { type A2ARemoteRef, type Connectors, checkConnectorReferences, createConnectorExecutors } from '../src/index.ts';
import { makeContext } from './helpers/context.ts';

const guard = createOutboundGuard({ allowHosts: LOOPBACK_ALLOW_HOSTS });
let dir: string;
let store: SqliteHandle;
let demo: DemoServices;
let c: Connectors;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-demo-'));
  store = await openSqlite(join(dir, 'trellis.db'));
  demo = await startDemoServices();
  // price-analyst and the pricing MCP server require the demo's bearer token, kept as a secret.
  const vault = await SecretVault.open(store.db, secretKeySource(join(dir, 'trellis.db'), {}));
  for (const s of demo.secrets) await vault.put(s.name, { value: s.value, scope: 'global', by: 'admin' });
  c = createConnectorExecutors({ db: store.db, guard, pollIntervalMs: 20, secrets: vaultSecretSource(vault, store.db) });
  for (const a of demo.agents)
    await c.agents.register({ url: a.url, name: a.name, credential: a.credential, createdBy: 'admin' });
  for (const t of demo.toolServers)
    await c.tools.register({ name: t.name, url: t.url, headers: t.headers }, { name: 'admin', isAdmin: true });
});
afterAll(async () => {
  await c.close();
  await demo.close();
  await store.close();
  await guard.close();
  rmSync(dir, { recursive: true, force: true });
});

function nodeOf(def: WorkflowDefinition, id: string): NodeDefinition {
  return def.nodes.find((n) => n.id === id) as NodeDefinition;
}

describe('offline demo', () => {
  it('discovers the demo agents by skill, tag and text', async () => {
    expect((await c.agents.list({ skill: 'book' })).map((a) => a.name)).toEqual(['concierge']);
    expect((await c.agents.list({ tag: 'travel' })).map((a) => a.name).sort()).toEqual([
      'concierge',
      'hotel-agent',
      'reviews-legacy',
    ]);
    expect((await c.agents.list({ q: 'token usage' })).map((a) => a.name)).toEqual(['price-analyst']);
    const refreshed = await c.agents.refresh('hotel-agent');
    expect(refreshed.changed).toBe(false);
  });

  it('every demo workflow compiles and its agents, skills and tools exist', async () => {
    const files = demoWorkflows();
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const { file, definition } of files) {
      const compiled = compile(definition);
      expect(compiled.errors, file).toEqual([]);
      const def = workflowDefinitionSchema.parse(definition);
      const errors = await checkConnectorReferences(def, { agents: c.agents, tools: c.tools });
      // `trellis-peer` is a workflow of the demo server itself (served over A2A), registered by
      // `serve --demo`, not a demo service: server/test/demo.int.test.ts runs it.
      expect(
        errors.filter((e) => !(e.code === 'AGENT_NOT_FOUND' && e.message.includes('trellis-peer'))),
        file,
      ).toEqual([]);
    }
  });

  it('reports unknown skills and bad literal tool arguments when a workflow is saved', async () => {
    const def = workflowDefinitionSchema.parse({
      name: 'bad',
      nodes: [
        { id: 'a', type: 'agent_call', agent: 'hotel-agent', skill: 'fly' },
        { id: 'b', type: 'agent_call', agent: 'ghost' },
        { id: 'c', type: 'tool_call', tool: 'pricing/convert', input: { amount: 'ten', from: 'EUR', to: '$a.currency' } },
        { id: 'd', type: 'tool_call', tool: 'pricing/convert', input: { from: 'EUR', to: 'USD' } },
        { id: 'e', type: 'tool_call', tool: 'pricing/teleport', input: {} },
        { id: 'f', type: 'tool_call', tool: 'pricing/convert', input: { amount: '$a.total', from: 'EUR', to: 'USD' } },
      ],
      edges: [],
    });
    const errors = await checkConnectorReferences(def, { agents: c.agents, tools: c.tools });
    expect(errors.map((e) => [e.code, e.nodes?.[0], e.path])).toEqual([
      ['UNKNOWN_AGENT_SKILL', 'a', '/nodes/0/skill'],
      ['AGENT_NOT_FOUND', 'b', '/nodes/1/agent'],
      ['TOOL_INPUT_INVALID', 'c', '/nodes/2/input'],
      ['TOOL_INPUT_INVALID', 'd', '/nodes/3/input'],
      ['TOOL_NOT_FOUND', 'e', '/nodes/4/tool'],
    ]);
    expect(errors[0]?.message).toContain('its skills: search');
  });

  it('the hotel-trip nodes run against the real demo agents and tool, with cost and an input-required booking', async () => {
    const def = workflowDefinitionSchema.parse(demoWorkflows().find((w) => w.file === 'hotel-trip.json')?.definition);
    const search = await c.agentCall.execute({ query: 'Lisbon' }, makeContext({ node: nodeOf(def, 'search') }));
    const hotels = (search as { output: { hotels: { name: string; price: number }[] } }).output.hotels;
    expect(hotels).toHaveLength(4);

    const analyzeCtx = makeContext({ node: nodeOf(def, 'analyze') });
    const analysis = await c.agentCall.execute({ hotels }, analyzeCtx);
    expect(analysis).toMatchObject({ kind: 'succeeded', output: { cheapest: { name: 'Bairro Hostel' }, average: 173 } });
    expect(analyzeCtx.costs[0]?.costUsd).toBeGreaterThan(0);
    expect(analyzeCtx.costs[0]?.usage).toEqual({ inputTokens: 680, outputTokens: 80 });

    const affordable = await c
      .toolCall('pricing/filter')
      ?.execute({ hotels, max_price: 200 }, makeContext({ node: nodeOf(def, 'affordable') }));
    expect(affordable).toMatchObject({ kind: 'succeeded', output: { count: 3 } });

    const reviews = await c.agentCall.execute({ hotel: hotels[0]?.name }, makeContext({ node: nodeOf(def, 'reviews') }));
    expect(reviews).toMatchObject({ kind: 'succeeded', output: { reviews: { hotel: 'Alfama Courtyard' } } });

    const bookNode = nodeOf(def, 'book');
    const first = makeContext({ node: bookNode });
    const waiting = await c.agentCall.execute({ hotel: { name: 'Bairro Hostel', price: 38 } }, first);
    expect(waiting).toEqual({ kind: 'waiting', prompt: 'Which room type at Bairro Hostel: standard or deluxe?' });
    const booked = await c.agentCall.execute(
      { hotel: { name: 'Bairro Hostel' } },
      makeContext({
        node: bookNode,
        remoteRef: first.savedRefs.at(-1) as A2ARemoteRef,
        decision: { approved: true, by: 'ana', comment: 'deluxe please' },
      }),
    );
    expect(booked).toMatchObject({ kind: 'succeeded', output: { booking: { room: 'deluxe' }, text: 'Booked a deluxe room' } });
  });

  it('price-analyst and the pricing MCP server refuse calls without the bearer token registered through the secret', async () => {
    const analyst = await c.agents.get('price-analyst');
    expect(analyst?.headers).toEqual({ Authorization: 'Bearer {{ $secrets.DEMO_SERVICE_TOKEN }}' });
    const url = demo.agents.find((a) => a.name === 'price-analyst')?.url as string;
    const bare = await guard.fetch(`${url}/a2a`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(bare.status).toBe(401);
    const mcp = await guard.fetch(demo.toolServers[0]?.url as string, { method: 'POST', body: '{}' });
    expect(mcp.status).toBe(401);
    // registering without the credential is refused with a message naming the header to add
    const other = createConnectorExecutors({ db: store.db, guard });
    await expect(
      other.agents.register({ url: url.replace('127.0.0.1', 'localhost'), name: 'analyst-2', createdBy: 'admin' }),
    ).rejects.toThrow(/requires authentication \(bearer: HTTP Bearer\).*credential/);
    await other.close();
  });
});
