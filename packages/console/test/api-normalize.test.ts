/**
 * The client's tolerance of list envelopes and registry shapes. The agent and tool registry
 * routes are not served yet, so their documented shapes (SPEC §6, connectors' AgentInfo and
 * ToolInfo) are answered here by a fetch function; the rest is tested against the real server.
 */
import { describe, expect, it } from 'vitest';
import { ApiClient } from '../src/api/client.ts';
import { toPage, unwrap } from '../src/api/normalize.ts';

function clientAnswering(body: unknown): ApiClient {
  return new ApiClient({
    token: 't',
    baseUrl: 'http://127.0.0.1:1',
    fetch: async () => new Response(JSON.stringify(body), { status: 200 }),
  });
}

describe('normalisers', () => {
  it('reads a bare array, { items }, { data } and a named list, with the cursor', () => {
    expect(toPage([1, 2])).toEqual({ items: [1, 2], nextCursor: null });
    expect(toPage({ items: [1], nextCursor: 'c' })).toEqual({ items: [1], nextCursor: 'c' });
    expect(toPage({ data: [3] })).toEqual({ items: [3], nextCursor: null });
    expect(toPage({ agents: [4] }, 'agents')).toEqual({ items: [4], nextCursor: null });
    expect(toPage('nonsense')).toEqual({ items: [], nextCursor: null });
    expect(unwrap({ workflow: { id: 'w' } }, 'workflow')).toEqual({ id: 'w' });
    expect(unwrap({ id: 'w', workflow: { x: 1 } }, 'workflow')).toEqual({ id: 'w', workflow: { x: 1 } });
  });

  it('names tools `<server>/<tool>` whichever way the registry sends them', async () => {
    const tools = await clientAnswering({
      items: [
        {
          id: 'pricing/filter',
          name: 'filter',
          server: 'pricing',
          serverId: 's1',
          description: 'd',
          inputSchema: { type: 'object' },
        },
        { name: 'maps/route' },
        { name: 'geocode', server: 'maps' },
      ],
    }).listTools();
    expect(tools.map((t) => t.name)).toEqual(['pricing/filter', 'maps/route', 'maps/geocode']);
    expect(tools[0]).toEqual({ name: 'pricing/filter', serverId: 's1', description: 'd', inputSchema: { type: 'object' } });
  });

  it('gives agents and tool servers empty skill and tool lists when absent', async () => {
    expect((await clientAnswering([{ id: 'a', name: 'A', url: 'http://a' }]).listAgents())[0]?.skills).toEqual([]);
    expect((await clientAnswering({ items: [{ id: 's', name: 'S' }] }).listToolServers())[0]?.tools).toEqual([]);
  });

  it('normalises the workflow list version from latestVersion', async () => {
    const page = await clientAnswering({ items: [{ id: 'w', name: 'W', latestVersion: 4 }], nextCursor: null }).listWorkflows();
    expect(page.items[0]?.version).toBe(4);
  });
});
