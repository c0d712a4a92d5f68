/**
 * Cards that name their interfaces by a path (Mastra-style `/a2a/greeter`, card under
 * `/.well-known/<agentId>/agent-card.json`): the URLs are resolved against the card's URL.
 * A real HTTP server on loopback serves the cards.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchAgentCard } from '../src/index.ts';

let server: Server;
let base: string;
const skills = [{ id: 'greet', name: 'greet', description: 'says hello', tags: [] }];

beforeAll(async () => {
  server = createServer((req, res) => {
    const cards: Record<string, unknown> = {
      // v0.3 shape, as Mastra serves it: a relative `url`.
      '/.well-known/greeter/agent-card.json': {
        name: 'greeter',
        description: 'Mastra-style',
        protocolVersion: '0.3.0',
        version: '1.0.0',
        url: '/a2a/greeter',
        preferredTransport: 'JSONRPC',
        capabilities: { streaming: true },
        defaultInputModes: ['text'],
        defaultOutputModes: ['text'],
        skills,
      },
      // v1.0 shape with one relative and one absolute interface.
      '/agents/echo/.well-known/agent-card.json': {
        name: 'echo',
        description: 'v1 card',
        version: '1.0.0',
        supportedInterfaces: [
          { url: 'rpc', protocolBinding: 'JSONRPC', protocolVersion: '1.0' },
          { url: 'https://elsewhere.example/rest', protocolBinding: 'HTTP+JSON', protocolVersion: '1.0' },
        ],
        capabilities: {},
        defaultInputModes: ['text'],
        defaultOutputModes: ['text'],
        skills,
      },
    };
    const card = cards[req.url ?? ''];
    res.writeHead(card ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(card ?? {}));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('agent cards with relative interface URLs', () => {
  it('a card under any path naming "/a2a/greeter" gets that path on the card\'s origin', async () => {
    const card = await fetchAgentCard(`${base}/.well-known/greeter/agent-card.json`, fetch);
    const urls = card.supportedInterfaces.map((i) => i.url);
    expect(urls.length).toBeGreaterThan(0);
    for (const u of urls) expect(u).toBe(`${base}/a2a/greeter`);
  });

  it('a path relative to the card resolves next to it; absolute URLs are left alone', async () => {
    const card = await fetchAgentCard(`${base}/agents/echo`, fetch);
    expect(card.supportedInterfaces.map((i) => i.url)).toEqual([
      `${base}/agents/echo/.well-known/rpc`,
      'https://elsewhere.example/rest',
    ]);
  });
});
