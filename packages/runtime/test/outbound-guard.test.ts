import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TrellisError } from '@trellis/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allowHostsFromEnv,
  createOutboundGuard,
  LOOPBACK_ALLOW_HOSTS,
  type OutboundGuard,
  parseAllowList,
} from '../src/outbound/index.ts';

type Handler = (req: IncomingMessage, url: URL) => { status?: number; headers?: Record<string, string>; body?: string };

async function listen(handler: Handler): Promise<{ server: Server; port: number; hits: IncomingMessage[] }> {
  const hits: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    hits.push(req);
    const out = handler(req, new URL(req.url ?? '/', 'http://x'));
    res.writeHead(out.status ?? 200, { 'content-type': 'application/json', ...out.headers });
    res.end(out.body ?? JSON.stringify({ headers: req.headers, method: req.method }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

async function expectBlocked(p: Promise<unknown>): Promise<TrellisError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TrellisError);
  expect((err as TrellisError).code).toBe('OUTBOUND_BLOCKED');
  return err as TrellisError;
}

let target: Awaited<ReturnType<typeof listen>>;
let other: Awaited<ReturnType<typeof listen>>;
const guards: OutboundGuard[] = [];
function guard(...args: Parameters<typeof createOutboundGuard>): OutboundGuard {
  const g = createOutboundGuard(...args);
  guards.push(g);
  return g;
}

beforeAll(async () => {
  other = await listen(() => ({}));
  target = await listen((_req, url) => {
    const to = url.searchParams.get('to');
    if (to) return { status: Number(url.searchParams.get('status') ?? 302), headers: { location: to }, body: '' };
    return {};
  });
});
afterAll(async () => {
  for (const g of guards) await g.close();
  target.server.close();
  other.server.close();
});

describe('outbound guard: refused addresses', () => {
  // Each of these would reach a listening loopback server if the guard let it through.
  const table = (port: number): string[] => [
    `http://127.0.0.1:${port}/`,
    `http://0x7f.1:${port}/`,
    `http://2130706433:${port}/`,
    `http://0177.0.0.1:${port}/`,
    `http://[::ffff:127.0.0.1]:${port}/`,
    `http://[::1]:${port}/`,
    `http://localhost:${port}/`,
    'http://[::ffff:169.254.169.254]/latest/meta-data/',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1/',
    'http://172.16.5.4/',
    'http://192.168.1.1/',
    'http://100.64.0.1/',
    'http://0.0.0.0/',
    'http://[::]/',
    'http://224.0.0.1/',
    'http://255.255.255.255/',
    'http://[fe80::1]/',
    'http://[fc00::1]/',
    'http://[fd12:3456::1]/',
  ];

  it('refuses every private, loopback, link-local, unique-local and mapped form', async () => {
    const g = guard();
    for (const url of table(target.port)) {
      const err = await expectBlocked(g.fetch(url));
      expect(err.message).toMatch(/TRELLIS_ALLOW_HOSTS/);
    }
    expect(target.hits).toHaveLength(0);
  });

  it('refuses a DNS name that resolves to a private address (no connection made)', async () => {
    const g = guard({ resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    const err = await expectBlocked(g.fetch(`http://innocent.example:${target.port}/`));
    expect(err.message).toContain('loopback');
    expect(target.hits).toHaveLength(0);
  });

  it('refuses non-http schemes and credentials in the URL', async () => {
    const g = guard();
    await expectBlocked(g.fetch('file:///etc/passwd'));
    await expectBlocked(g.fetch('ftp://example.com/'));
    await expectBlocked(g.fetch('http://user:pw@example.com/'));
  });

  it('connects only to a checked address: one resolution per connection', async () => {
    let calls = 0;
    const g = guard({
      allowHosts: ['127.0.0.1'],
      resolve: async () => {
        calls++;
        // A rebinding resolver: the second answer would point elsewhere.
        return calls === 1 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '169.254.169.254', family: 4 }];
      },
    });
    const res = await g.fetch(`http://rebind.example:${target.port}/`);
    expect(res.status).toBe(200);
    expect(calls).toBe(1);
  });

  it('filters a mixed DNS answer down to the allowed addresses', async () => {
    const g = guard({
      allowHosts: ['127.0.0.1'],
      resolve: async () => [
        { address: '10.1.2.3', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
    });
    expect(await g.checkHost('http://mixed.example/')).toEqual([{ address: '127.0.0.1', family: 4 }]);
  });
});

describe('outbound guard: allowed hosts', () => {
  it('reaches loopback by IP and by name when allowed', async () => {
    const g = guard({ allowHosts: LOOPBACK_ALLOW_HOSTS });
    expect((await g.fetch(`http://127.0.0.1:${target.port}/`)).status).toBe(200);
    expect((await g.fetch(`http://localhost:${target.port}/`)).status).toBe(200);
    expect((await g.fetch(`http://0x7f.1:${target.port}/`)).status).toBe(200);
  });

  it('allows a host by name whatever it resolves to', async () => {
    const g = guard({ allowHosts: ['agents.internal'], resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    expect((await g.fetch(`http://agents.internal:${target.port}/`)).status).toBe(200);
    await expectBlocked(g.fetch(`http://other.internal:${target.port}/`));
  });

  it('parses the allow list and rejects nonsense with a clear error', () => {
    expect(allowHostsFromEnv({ TRELLIS_ALLOW_HOSTS: ' 10.0.0.0/8, localhost ,,*.corp' })).toEqual([
      '10.0.0.0/8',
      'localhost',
      '*.corp',
    ]);
    expect(() => parseAllowList(['10.0.0.0/99'])).toThrow(/not a host name/);
    try {
      parseAllowList(['bad host!']);
    } catch (e) {
      expect((e as TrellisError).code).toBe('CONFIG_INVALID');
    }
  });
});

describe('outbound guard: redirects', () => {
  it('checks every hop: a redirect to a private address is refused', async () => {
    // Only the first hop (127.0.0.1) is allowed.
    const g = guard({ allowHosts: ['127.0.0.1/32'] });
    for (const to of ['http://169.254.169.254/latest/meta-data/', 'http://[::ffff:10.0.0.1]/', 'http://10.0.0.7:8080/']) {
      const err = await expectBlocked(g.fetch(`http://127.0.0.1:${target.port}/?to=${encodeURIComponent(to)}`));
      expect(err.message).toMatch(/refused/);
    }
  });

  it('refuses a redirect to a name that resolves to a private address', async () => {
    const g = guard({
      allowHosts: ['127.0.0.1/32'],
      resolve: async (h) => [{ address: h === 'inner.example' ? '192.168.0.10' : '127.0.0.1', family: 4 }],
    });
    await expectBlocked(g.fetch(`http://127.0.0.1:${target.port}/?to=${encodeURIComponent('http://inner.example/')}`));
  });

  it('drops credentials on a cross-origin redirect and keeps them on the same origin', async () => {
    const g = guard({ allowHosts: LOOPBACK_ALLOW_HOSTS });
    const headers = { authorization: 'Bearer secret', cookie: 'sid=1', 'x-trace': 't' };
    const cross = await g.fetch(`http://127.0.0.1:${target.port}/?to=${encodeURIComponent(`http://127.0.0.1:${other.port}/`)}`, {
      headers,
    });
    const seen = ((await cross.json()) as { headers: Record<string, string> }).headers;
    expect(seen.authorization).toBeUndefined();
    expect(seen.cookie).toBeUndefined();
    expect(seen['x-trace']).toBe('t');

    const same = await g.fetch(`http://127.0.0.1:${target.port}/?to=${encodeURIComponent('/final')}`, { headers });
    expect(((await same.json()) as { headers: Record<string, string> }).headers.authorization).toBe('Bearer secret');
  });

  it('turns POST into GET on 303 and stops after too many hops', async () => {
    const g = guard({ allowHosts: LOOPBACK_ALLOW_HOSTS, maxRedirects: 2 });
    const res = await g.fetch(`http://127.0.0.1:${target.port}/?status=303&to=${encodeURIComponent('/done')}`, {
      method: 'POST',
      body: 'x',
    });
    expect(((await res.json()) as { method: string }).method).toBe('GET');
    const loop = `http://127.0.0.1:${target.port}/?to=`;
    const nested = loop + encodeURIComponent(loop + encodeURIComponent(loop + encodeURIComponent('/end')));
    await expectBlocked(g.fetch(nested));
  });

  it('returns the redirect itself with redirect: manual', async () => {
    const g = guard({ allowHosts: LOOPBACK_ALLOW_HOSTS });
    const res = await g.fetch(`http://127.0.0.1:${target.port}/?to=${encodeURIComponent('http://10.0.0.1/')}`, {
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
  });
});
