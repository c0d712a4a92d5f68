import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TrellisError } from '@trellis/core';
import ipaddr from 'ipaddr.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allowHostsFromEnv,
  createOutboundGuard,
  embeddedIPv4,
  LOOPBACK_ALLOW_HOSTS,
  type OutboundGuard,
  parseAllowList,
  refusalReason,
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
    // Says why without the address: readers of the run must not learn the internal layout.
    expect(err.message).toMatch(/innocent\.example: it resolves only to private, loopback or otherwise non-public addresses/);
    expect(err.message).not.toContain('127.0.0.1');
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

describe('outbound guard: IPv4 carried in IPv6 addresses', () => {
  it('judges every embedding form by the IPv4 address it carries', () => {
    const list = parseAllowList([]);
    const refused = [
      '::7f00:1', // [::127.0.0.1], IPv4-compatible
      '::a9fe:a9fe', // 169.254.169.254
      '::a00:1', // 10.0.0.1
      '::ffff:7f00:1', // mapped
      '::ffff:0:a00:1', // translated
      '64:ff9b::a9fe:a9fe', // NAT64 well-known prefix
      '64:ff9b:1::7f00:1', // NAT64 local-use, /96 layout
      '64:ff9b:1:a00:1::', // NAT64 local-use, /48 layout of 10.0.1.0
      '2002:7f00:1::', // 6to4 of 127.0.0.1
      '2002:c0a8:1::1', // 6to4 of 192.168.0.1
      '2001:0:7f00:1::', // Teredo server 127.0.0.1
      '2001:0:808:808::80ff:fffe', // Teredo client 127.0.0.1 (inverted)
    ];
    for (const a of refused) expect(refusalReason(list, a), a).toMatch(/carries the IPv4 address/);
    for (const a of ['64:ff9b::808:808', '2002:808:808::1', '2001:0:808:808::f7f7:f7f7', '2606:4700::1'])
      expect(refusalReason(list, a), a).toBeUndefined();
    expect(refusalReason(list, '::1')).toMatch(/loopback/);
    expect(embeddedIPv4(ipaddr.parse('::') as ipaddr.IPv6)).toEqual([]);
    // An allowed IPv4 range allows the same address in its IPv6 forms, and only that.
    const loop = parseAllowList(['127.0.0.0/8']);
    expect(refusalReason(loop, '::7f00:1')).toBeUndefined();
    expect(refusalReason(loop, '::a00:1')).toMatch(/10\.0\.0\.1, a private address/);
  });

  it('refuses http://[::127.0.0.1]:PORT and its NAT64 and 6to4 spellings before any connection', async () => {
    const g = guard();
    const before = target.hits.length;
    for (const host of ['[::127.0.0.1]', '[::7f00:1]', '[64:ff9b::127.0.0.1]', '[2002:7f00:1::]', '[::ffff:127.0.0.1]']) {
      const err = await expectBlocked(g.fetch(`http://${host}:${target.port}/`));
      expect(err.message, host).toMatch(/127\.0\.0\.1, a loopback address/);
    }
    // A DNS answer in one of these forms is refused too, without naming the address.
    const dns = guard({ resolve: async () => [{ address: '::7f00:1', family: 6 }] });
    const err = await expectBlocked(dns.fetch(`http://sneaky.example:${target.port}/`));
    expect(err.message).not.toContain('7f00');
    expect(target.hits).toHaveLength(before);
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

  it('forwards only harmless headers on a cross-origin redirect, and every header on the same origin', async () => {
    const g = guard({ allowHosts: LOOPBACK_ALLOW_HOSTS });
    const headers = {
      authorization: 'Bearer secret',
      cookie: 'sid=1',
      'x-api-key': 'SECRET-KEY',
      'x-trace': 't',
      accept: 'application/json',
      'user-agent': 'trellis-test',
    };
    const cross = await g.fetch(`http://127.0.0.1:${target.port}/?to=${encodeURIComponent(`http://127.0.0.1:${other.port}/`)}`, {
      headers,
    });
    const seen = ((await cross.json()) as { headers: Record<string, string> }).headers;
    expect(seen.authorization).toBeUndefined();
    expect(seen.cookie).toBeUndefined();
    expect(seen['x-api-key']).toBeUndefined();
    expect(seen['x-trace']).toBeUndefined();
    expect(seen.accept).toBe('application/json');
    expect(seen['user-agent']).toBe('trellis-test');

    const same = await g.fetch(`http://127.0.0.1:${target.port}/?to=${encodeURIComponent('/final')}`, { headers });
    const sameSeen = ((await same.json()) as { headers: Record<string, string> }).headers;
    expect(sameSeen.authorization).toBe('Bearer secret');
    expect(sameSeen['x-api-key']).toBe('SECRET-KEY');
  });

  it('never sends a body to another origin: a cross-origin 307/308 of a POST fails the call clearly', async () => {
    const g = guard({ allowHosts: LOOPBACK_ALLOW_HOSTS });
    for (const status of [307, 308]) {
      const before = other.hits.length;
      const to = encodeURIComponent(`http://127.0.0.1:${other.port}/steal`);
      const err = await expectBlocked(
        g.fetch(`http://127.0.0.1:${target.port}/?status=${status}&to=${to}`, { method: 'POST', body: '{"card":"4111"}' }),
      );
      expect(err.message).toMatch(new RegExp(`answered ${status} redirecting the POST request to another origin .*never sent`));
      expect(other.hits.length).toBe(before);
    }
    // Same origin: the body follows the 307 as the standard says.
    const same = await g.fetch(`http://127.0.0.1:${target.port}/?status=307&to=${encodeURIComponent('/again')}`, {
      method: 'POST',
      body: 'x',
    });
    expect(((await same.json()) as { method: string }).method).toBe('POST');
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
