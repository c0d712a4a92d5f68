/**
 * stdio MCP servers as real child processes (official SDK fixture): `env` (with secret
 * references) and `cwd` on registration, for administrators only and never shown back; a reply
 * over the message limit fails that call alone with OUTPUT_TOO_LARGE while the process and a
 * call in flight carry on; a crashed process is started again on the next call, after a pause
 * that grows with each crash.
 */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TrellisError } from '@trellis/core';
import { createOutboundGuard, LOOPBACK_ALLOW_HOSTS, type SecretSource } from '@trellis/runtime';
import { openSqlite, type SqliteHandle } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connectors, createConnectorExecutors } from '../src/index.ts';
import { idOfOversized, LineReader } from '../src/mcp/stdio-transport.ts';
import { makeContext, rejection } from './helpers/context.ts';

const fixture = fileURLToPath(new URL('./fixtures/stateful-mcp-stdio.ts', import.meta.url));
// By URL: the process runs in another directory (cwd), where a bare `tsx` would not resolve.
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const admin = { name: 'root', isAdmin: true };
const TOKEN = 'tok-3f9a1c77e2b4';
const secrets: SecretSource = {
  forRun: () => Promise.reject(new Error('not for runs')),
  forRegistration: async (name) => {
    if (name !== 'FIXTURE_TOKEN') throw new TrellisError('SECRET_NOT_FOUND', `no secret ${name}`);
    return TOKEN;
  },
};
const guard = createOutboundGuard({ allowHosts: LOOPBACK_ALLOW_HOSTS });
let dir: string;
let store: SqliteHandle;
let c: Connectors;

const call = (tool: string, input: object, runId = 'run_test') => {
  const ctx = makeContext({ node: { id: 'n', type: 'tool_call', tool } });
  return c.toolCall(tool)?.execute(input, { ...ctx, runId }) as Promise<{ kind: string; output: Record<string, unknown> }>;
};

beforeAll(async () => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'trellis-mcp-stdio-')));
  store = await openSqlite(join(dir, 't.db'));
  c = createConnectorExecutors({ db: store.db, guard, secrets, env: {}, mcp: { stdioMaxMessageBytes: 1024 * 1024 } });
  await c.tools.register(
    {
      name: 'fx',
      command: process.execPath,
      args: ['--import', tsx, fixture],
      env: { FIXTURE_TOKEN: '{{ $secrets.FIXTURE_TOKEN }}', PLAIN: 'plain-value-1234' },
      cwd: dir,
    },
    admin,
  );
}, 60_000);
afterAll(async () => {
  await c?.close();
  await store?.close();
  await guard.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('stdio env and cwd', () => {
  it('the process gets env (secret references rendered) and cwd; the API shows names, not values', async () => {
    const token = await call('fx/whoami', { name: 'FIXTURE_TOKEN' });
    // Passed to the process, and hidden again in what comes back.
    expect(token.output.value).toBe('[secret:FIXTURE_TOKEN]');
    expect(token.output.cwd).toBe(dir);
    expect((await call('fx/whoami', { name: 'PLAIN' })).output.value).toBe('plain-value-1234');
    const info = await c.tools.get('fx');
    expect(info?.env).toEqual({ FIXTURE_TOKEN: '{{ $secrets.FIXTURE_TOKEN }}', PLAIN: '[hidden]' });
    expect(info?.cwd).toBe(dir);
    expect(JSON.stringify(info)).not.toContain(TOKEN);
    expect(JSON.stringify(info)).not.toContain('plain-value-1234');
  }, 30_000);

  it('refuses env/cwd from non-admins, on HTTP servers, bad names and relative directories', async () => {
    const base = { command: process.execPath, args: [fixture] };
    const bad = async (input: object, principal = admin) =>
      (await rejection(c.tools.register(input as never, principal))) as TrellisError;
    expect((await bad({ ...base, name: 'x1', env: { A: 'b' } }, { name: 'eve', isAdmin: false })).code).toBe('FORBIDDEN');
    expect((await bad({ name: 'x2', url: 'http://127.0.0.1:1/mcp', env: { A: 'b' } })).message).toMatch(/stdio servers/);
    expect((await bad({ ...base, name: 'x3', env: { '1A': 'b' } })).message).toMatch(/not a valid variable name/);
    expect((await bad({ ...base, name: 'x4', env: { NODE_OPTIONS: '--require x' } })).message).toMatch(/NODE_OPTIONS/);
    expect((await bad({ ...base, name: 'x5', env: { A: '{{ $context.x }}' } })).code).toBe('SECRET_NOT_ALLOWED_HERE');
    expect((await bad({ ...base, name: 'x6', cwd: 'relative/dir' })).message).toMatch(/absolute directory/);
    expect((await bad({ ...base, name: 'x7', sessions: 'global' })).message).toMatch(/"sessions"/);
  });
});

describe('stdio replies over the message limit', () => {
  it('fails only that call with OUTPUT_TOO_LARGE; the process and a call in flight survive', async () => {
    const first = await call('fx/slow', { ms: 1 });
    const pid = first.output.pid;
    const inFlight = call('fx/slow', { ms: 1_500 });
    const err = (await rejection(call('fx/big', { bytes: 3 * 1024 * 1024 }))) as TrellisError;
    expect(err).toBeInstanceOf(TrellisError);
    expect(err.code).toBe('OUTPUT_TOO_LARGE');
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/over the 1048576-byte limit .*TRELLIS_MCP_STDIO_MAX_MESSAGE_BYTES/);
    expect(err.message).toContain('the connection stays open');
    const survived = await inFlight;
    expect(survived.output).toEqual({ slept: 1_500, pid });
    // Same process afterwards; a reply under the limit still comes through.
    expect((await call('fx/slow', { ms: 1 })).output.pid).toBe(pid);
    expect((await call('fx/big', { bytes: 500_000 })).output).toEqual({ text: 'x'.repeat(500_000) });
  }, 60_000);

  it('line reader: keeps only the ends of a long line; finds the id at either end', () => {
    const r = new LineReader(16);
    const out = [...r.push(Buffer.from('{"a":1}\n{"result":"')), ...r.push(Buffer.from(`${'y'.repeat(100)}","id":42}\nok\n`))];
    expect(out[0]).toBe('{"a":1}');
    expect(out[1]).toMatchObject({ bytes: 121 });
    expect(out[2]).toBe('ok');
    const big = out[1] as { head: string; tail: string };
    expect(idOfOversized(big.head, big.tail)).toBe(42);
    expect(idOfOversized('{"jsonrpc":"2.0","id":"abc","result":{"x', 'yy"}}')).toBe('abc');
    // An id nested in the result is not taken for the message's.
    expect(idOfOversized('{"result":{"x":"', 'y","id":3}}')).toBeUndefined();
  });
});

describe('a crashed stdio server', () => {
  it('fails the call in flight (retryable, not re-sent); the next call starts it again, after a pause that grows per crash', async () => {
    const run = 'run_crash';
    const before = (await call('fx/slow', { ms: 1 }, run)).output.pid as number;
    const crash = (await rejection(call('fx/crash', {}, run))) as TrellisError;
    // Retryable (the node's retry policy decides), with the exit status and the process's last words.
    expect(crash.code).toBe('NETWORK_ERROR');
    expect(crash.retryable).toBe(true);
    expect(crash.message).toMatch(/exited with code 3/);
    expect(crash.message).toContain('about to crash');
    const pool = c.tools.pool;
    const serverId = (await c.tools.get('fx'))?.id as string;
    const firstDelay = pool.restartDelayMs(serverId);
    expect(firstDelay).toBeGreaterThan(0);
    expect(firstDelay).toBeLessThanOrEqual(200);
    // A second crash before any success: the pause doubles.
    await rejection(call('fx/crash', {}, run));
    expect(pool.restartDelayMs(serverId)).toBeGreaterThan(firstDelay);
    const after = (await call('fx/slow', { ms: 1 }, run)).output.pid as number;
    expect(after).not.toBe(before);
    // A call that succeeds clears the record.
    expect(pool.restartDelayMs(serverId)).toBe(0);
  }, 90_000);
});
