/**
 * stdio MCP servers' stderr: drained continuously into a bounded ring, its (scrubbed) tail shown
 * in registration and call errors. Real stdio servers from the official SDK, spawned by the tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TrellisError } from '@trellis/core';
import { createOutboundGuard, LOOPBACK_ALLOW_HOSTS } from '@trellis/runtime';
import { openSqlite, type SqliteHandle } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMcpToolExecutor, ToolServerRegistry } from '../src/index.ts';
import { StderrTail } from '../src/mcp/stderr-tail.ts';
import { makeContext, rejection } from './helpers/context.ts';

const guard = createOutboundGuard({ allowHosts: LOOPBACK_ALLOW_HOSTS });
const fixture = resolve(import.meta.dirname, 'fixtures/stderr-mcp-server.ts');
const admin = { name: 'root', isAdmin: true };
const SECRET = 'SUPERSECRET-TOKEN-42';
let dir: string;
let store: SqliteHandle;
let registry: ToolServerRegistry;
let exec: ReturnType<typeof createMcpToolExecutor>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-mcp-stderr-'));
  store = await openSqlite(join(dir, 'trellis.db'));
  registry = new ToolServerRegistry({ db: store.db, fetch: guard.fetch });
  exec = createMcpToolExecutor({ tools: registry });
});
afterAll(async () => {
  await registry.close();
  await store.close();
  await guard.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('StderrTail', () => {
  it('keeps only the newest bytes and hides the given strings', () => {
    const tail = new StderrTail(16, ['hunter2']);
    tail.push(Buffer.from('0123456789'));
    tail.push(Buffer.from('abcdefghij'));
    expect(tail.text()).toBe('456789abcdefghij');
    tail.push(Buffer.from('x'.repeat(40)));
    expect(tail.text()).toBe('x'.repeat(16));
    const secret = new StderrTail(64, ['hunter2']);
    secret.push(Buffer.from('password hunter2 rejected'));
    expect(secret.text()).toBe('password [redacted] rejected');
  });
});

describe('stdio MCP server stderr', () => {
  it('drains a noisy server (200 KB of stderr) and shows its last words when it dies mid-call', async () => {
    await registry.register(
      { name: 'noisy', command: process.execPath, args: ['--import', 'tsx', fixture, 'noisy', SECRET] },
      admin,
    );
    const ok = await exec.execute({ text: 'hi' }, makeContext({ node: { id: 'n', type: 'tool_call', tool: 'noisy/echo' } }));
    expect(ok).toEqual({ kind: 'succeeded', output: { text: 'hi' } });
    const err = (await rejection(
      exec.execute({}, makeContext({ node: { id: 'n', type: 'tool_call', tool: 'noisy/die' } })),
    )) as TrellisError;
    expect(err.code).toBe('NETWORK_ERROR');
    expect(err.message).toContain('the stdio MCP server "noisy"');
    expect(err.message).toContain('fatal: database is locked (key [redacted])');
    const shown = JSON.stringify(err.toInfo());
    expect(shown).not.toContain(SECRET);
    expect(shown).not.toContain(fixture);
    expect(shown.length).toBeLessThan(4_000);
    await registry.delete('noisy');
  });

  it('a registration that fails says what the server wrote on stderr, scrubbed of its command line', async () => {
    const missing = join(dir, `missing-${SECRET}.js`);
    const err1 = (await rejection(
      registry.register({ name: 'gone', command: process.execPath, args: [missing] }, admin),
    )) as TrellisError;
    expect(err1.message).toMatch(/cannot start the stdio MCP server "gone"/);
    expect(err1.message).toMatch(/its stderr ended with:[\s\S]*Cannot find module '\[redacted\]'/);
    expect(err1.message).not.toContain(SECRET);

    const err2 = (await rejection(
      registry.register(
        { name: 'toolless', command: process.execPath, args: ['--import', 'tsx', fixture, 'no-tools', SECRET] },
        admin,
      ),
    )) as TrellisError;
    expect(err2.message).toContain('the stdio MCP server "toolless" failed during listing its tools');
    expect(err2.message).toContain('tools disabled: set TOOLS_ENABLED=1 (key [redacted])');
    expect(JSON.stringify(err2.toInfo())).not.toContain(SECRET);
    expect(await registry.get('toolless')).toBeUndefined();
  });
});
