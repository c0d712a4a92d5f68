/**
 * http.request with secrets: values put in from the node's definition at the last moment (never
 * from the resolved input, so a value arriving through a binding cannot name a secret), echoes
 * redacted, scope failures clear, and a redirect to another origin loses every secret header.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutorContext, NodeDefinition } from '@trellis/core';
import { prepareBindings, TrellisError } from '@trellis/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpRequestExecutor } from '../src/executors/http-request.ts';
import { createOutboundGuard, LOOPBACK_ALLOW_HOSTS } from '../src/outbound/index.ts';
import type { SecretSource } from '../src/secrets/source.ts';

const VALUES: Record<string, string> = { KEY: 'k3y/with+chars', TOKEN: 'tok-123456' };
const used: string[] = [];
const secrets: SecretSource = {
  forRun: async (name, runId) => {
    used.push(`${runId}:${name}`);
    const v = VALUES[name];
    if (v === undefined) throw new TrellisError('SECRET_NOT_FOUND', `secret ${name} does not exist`, { category: 'user' });
    return v;
  },
  forRegistration: async () => {
    throw new Error('not here');
  },
};

const guard = createOutboundGuard({ allowHosts: LOOPBACK_ALLOW_HOSTS });
const http = createHttpRequestExecutor({ guard, secrets });
let home: Server;
let away: Server;
let homeBase: string;
let awayBase: string;
const seen: { where: string; url: string | undefined; token: unknown; key: unknown }[] = [];

function context(input: Record<string, unknown>, scope: Record<string, unknown> = {}): ExecutorContext {
  const node: NodeDefinition = { id: 'call', type: 'tool_call', tool: 'http.request', input };
  return {
    runId: 'run1',
    nodeId: 'call',
    attempt: 1,
    idempotencyKey: 'run1:call:1',
    signal: new AbortController().signal,
    node,
    scope,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    reportCost: () => {},
    renderTemplate: async (t) => String(await prepareBindings(t).resolve(scope)),
    evaluate: async () => undefined,
    remoteRef: undefined,
    saveRemoteRef: async () => {},
    decision: undefined,
  };
}

async function run(input: Record<string, unknown>, scope: Record<string, unknown> = {}) {
  const resolved = await prepareBindings(input).resolve(scope);
  return http.execute(resolved, context(input, scope));
}

beforeAll(async () => {
  const handler = (where: string) => (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    seen.push({ where, url: req.url, token: req.headers.authorization, key: req.headers['x-api-key'] });
    if (req.url?.startsWith('/same')) return void res.writeHead(307, { location: '/echo' }).end();
    if (req.url?.startsWith('/leave')) return void res.writeHead(302, { location: `${awayBase}/echo` }).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ url: req.url, headers: req.headers }));
  };
  home = createServer(handler('home'));
  away = createServer(handler('away'));
  await new Promise<void>((r) => home.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => away.listen(0, 'localhost', r));
  homeBase = `http://127.0.0.1:${(home.address() as AddressInfo).port}`;
  awayBase = `http://localhost:${(away.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => home.close(r));
  await new Promise((r) => away.close(r));
  await guard.close();
});

describe('http.request with secrets', () => {
  it('sends the values (URL-encoded in the query) and returns what is echoed redacted', async () => {
    const out = await run(
      {
        url: `${homeBase}/echo?key={{ $secrets.KEY }}&city={{ $context.city }}`,
        headers: { Authorization: 'Bearer {{ $secrets.TOKEN }}', 'X-Api-Key': '{{ $secrets.KEY }}' },
      },
      { context: { city: 'Porto' } },
    );
    expect(seen.at(-1)).toEqual({
      where: 'home',
      url: `/echo?key=${encodeURIComponent(VALUES.KEY as string)}&city=Porto`,
      token: `Bearer ${VALUES.TOKEN}`,
      key: VALUES.KEY,
    });
    expect(out).toMatchObject({
      kind: 'succeeded',
      output: {
        body: {
          url: '/echo?key=[secret:KEY]&city=Porto',
          headers: { authorization: 'Bearer [secret:TOKEN]', 'x-api-key': '[secret:KEY]' },
        },
      },
    });
    expect(JSON.stringify(out)).not.toContain(VALUES.TOKEN);
  });

  it('a value arriving through a binding cannot name a secret: it is sent as the text it is', async () => {
    used.length = 0;
    await run({ url: `${homeBase}/echo`, headers: { 'X-Api-Key': '$context.k' } }, { context: { k: '{{ $secrets.KEY }}' } });
    expect(seen.at(-1)?.key).toBe('{{ $secrets.KEY }}');
    expect(used).toEqual([]);
  });

  it('an unknown secret fails the node clearly, before anything is sent', async () => {
    const before = seen.length;
    await expect(run({ url: `${homeBase}/echo`, headers: { A: '{{ $secrets.NOPE }}' } })).rejects.toMatchObject({
      code: 'SECRET_NOT_FOUND',
    });
    expect(seen.length).toBe(before);
  });

  it('redirects: the same origin keeps the secret headers, another origin gets none of them', async () => {
    const headers = { Authorization: 'Bearer {{ $secrets.TOKEN }}', 'X-Api-Key': '{{ $secrets.KEY }}', 'X-Plain': 'p' };
    await run({ url: `${homeBase}/same`, headers });
    expect(seen.at(-1)).toMatchObject({ where: 'home', url: '/echo', token: `Bearer ${VALUES.TOKEN}`, key: VALUES.KEY });
    const out = await run({ url: `${homeBase}/leave`, headers });
    expect(seen.at(-1)).toEqual({ where: 'away', url: '/echo', token: undefined, key: undefined });
    expect(out).toMatchObject({ kind: 'succeeded', output: { body: { headers: { 'x-plain': 'p' } } } });
  });
});
