import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { NodeDefinition, TrellisError } from '@trellis/core';
import { createOutboundGuard, LOOPBACK_ALLOW_HOSTS } from '@trellis/runtime';
import { insertToolServer, openSqlite, type SqliteHandle } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningMcpServer, startPricingHttpServer } from '../../../examples/mcp/http.ts';
import { cancelledSleeps } from '../../../examples/mcp/pricing-server.ts';
import { createMcpToolExecutor, ToolServerRegistry } from '../src/index.ts';
import { makeContext, rejection } from './helpers/context.ts';

const guard = createOutboundGuard({ allowHosts: LOOPBACK_ALLOW_HOSTS });
let dir: string;
let store: SqliteHandle;
let registry: ToolServerRegistry;
let http: RunningMcpServer;
let exec: ReturnType<typeof createMcpToolExecutor>;
const admin = { name: 'root', isAdmin: true };
const editor = { name: 'eddie', isAdmin: false };
const stdioEntry = resolve(import.meta.dirname, '../../../examples/mcp/stdio.ts');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-mcp-'));
  store = await openSqlite(join(dir, 'trellis.db'));
  registry = new ToolServerRegistry({ db: store.db, fetch: guard.fetch, checkUrl: guard.checkUrl });
  http = await startPricingHttpServer();
  exec = createMcpToolExecutor({ tools: registry });
});
afterAll(async () => {
  await registry.close();
  await http.close();
  await store.close();
  await guard.close();
  rmSync(dir, { recursive: true, force: true });
});

function node(tool: string): NodeDefinition {
  return { id: 'price', type: 'tool_call', tool };
}

const hotels = [
  { name: 'Ritz', price: 480 },
  { name: 'Inn', price: 95 },
  { name: 'Hostel', price: 30 },
];

describe('MCP over Streamable HTTP', () => {
  it('registers a server by URL (editors may) and lists its tools with input schemas', async () => {
    const info = await registry.register({ name: 'pricing', url: http.url }, editor);
    expect(info.transport).toBe('http');
    const names = info.tools.map((t) => t.name).sort();
    expect(names).toEqual(['convert', 'fail', 'filter', 'quote', 'sleep']);
    const filter = info.tools.find((t) => t.name === 'filter');
    expect(filter?.inputSchema).toMatchObject({ type: 'object', required: ['hotels', 'max_price'] });
    const all = await registry.listTools();
    expect(all.map((t) => t.id)).toContain('pricing/filter');
    const dup = (await rejection(registry.register({ name: 'pricing', url: http.url }, editor))) as TrellisError;
    expect(dup.code).toBe('CONFLICT');
  });

  it('calls a tool: structuredContent is the output', async () => {
    const result = await exec.execute({ hotels, max_price: 100 }, makeContext({ node: node('pricing/filter') }));
    expect(result).toEqual({
      kind: 'succeeded',
      output: { filtered: [hotels[2], hotels[1]], count: 2 },
    });
  });

  it('without structuredContent the text is parsed as JSON, else kept as { text }', async () => {
    const converted = await exec.execute({ amount: 100, from: 'EUR', to: 'USD' }, makeContext({ node: node('pricing/convert') }));
    expect(converted).toEqual({ kind: 'succeeded', output: { amount: 108, currency: 'USD' } });
    const quote = await exec.execute({ hotel: 'Inn' }, makeContext({ node: node('pricing/quote') }));
    expect(quote).toEqual({ kind: 'succeeded', output: { text: 'A fine choice: Inn' } });
  });

  it('checks the input against the tool schema before calling', async () => {
    const err = (await rejection(
      exec.execute({ hotels, max_price: 'cheap' }, makeContext({ node: node('pricing/filter') })),
    )) as TrellisError;
    expect(err).toMatchObject({ code: 'INPUT_INVALID', retryable: false });
    expect(err.message).toMatch(/max_price/);
    const missing = (await rejection(exec.execute({}, makeContext({ node: node('pricing/convert') })))) as TrellisError;
    expect(missing.message).toMatch(/amount/);
  });

  it('isError fails the node with TOOL_ERROR; an unknown tool is TOOL_NOT_FOUND', async () => {
    const err = (await rejection(exec.execute({ reason: 'quota' }, makeContext({ node: node('pricing/fail') })))) as TrellisError;
    expect(err).toMatchObject({ code: 'TOOL_ERROR', retryable: false });
    expect(err.message).toContain('pricing backend refused: quota');
    const nf = (await rejection(exec.execute({}, makeContext({ node: node('pricing/nope') })))) as TrellisError;
    expect(nf.code).toBe('TOOL_NOT_FOUND');
  });

  it('cancellation reaches the server', async () => {
    const before = cancelledSleeps.length;
    const ctx = makeContext({ node: node('pricing/sleep') });
    setTimeout(() => ctx.controller.abort(), 200);
    const err = await rejection(exec.execute({ ms: 10_000 }, ctx));
    expect((err as Error).name).toBe('AbortError');
    await expect.poll(() => cancelledSleeps.length, { timeout: 3000 }).toBe(before + 1);
  });

  it('reuses the connection, and re-establishes it after the server drops it', async () => {
    const server = (await registry.get('pricing'))!;
    // The run's session (makeContext's run is run_test) is reused by the run's calls.
    const scope = { runId: 'run_test' };
    const a = await registry.withClient({ ...server } as never, async (c) => c, scope);
    const b = await registry.withClient({ ...server } as never, async (c) => c, scope);
    expect(a).toBe(b);
    await http.dropSessions();
    const result = await exec.execute({ hotel: 'Ritz' }, makeContext({ node: node('pricing/quote') }));
    expect(result).toEqual({ kind: 'succeeded', output: { text: 'A fine choice: Ritz' } });
    const c = await registry.withClient({ ...server } as never, async (x) => x, scope);
    expect(c).not.toBe(a);
  });

  it('goes through the outbound guard', async () => {
    const strictGuard = createOutboundGuard();
    const strict = new ToolServerRegistry({ db: store.db, fetch: strictGuard.fetch, checkUrl: strictGuard.checkUrl });
    const err = (await rejection(strict.register({ name: 'blocked', url: http.url }, editor))) as TrellisError;
    expect(err.code).toBe('OUTBOUND_BLOCKED');
    await strict.close();
    await strictGuard.close();
  });
});

describe('MCP over stdio', () => {
  it('only admins may register a stdio server', async () => {
    const err = (await rejection(
      registry.register({ name: 'local', command: process.execPath, args: ['--import', 'tsx', stdioEntry] }, editor),
    )) as TrellisError;
    expect(err.code).toBe('FORBIDDEN');
    expect(await registry.get('local')).toBeUndefined();
  });

  it('registers, lists and calls tools over stdio', async () => {
    const info = await registry.register(
      { name: 'local', command: process.execPath, args: ['--import', 'tsx', stdioEntry] },
      admin,
    );
    expect(info.transport).toBe('stdio');
    expect(info.tools.map((t) => t.name)).toContain('filter');
    const result = await exec.execute({ hotels, max_price: 40 }, makeContext({ node: node('local/filter') }));
    expect(result).toEqual({ kind: 'succeeded', output: { filtered: [hotels[2]], count: 1 } });
    const err = (await rejection(exec.execute({}, makeContext({ node: node('local/fail') })))) as TrellisError;
    expect(err.code).toBe('TOOL_ERROR');
    expect(await registry.delete('local')).toBe(true);
  });

  it('a stdio server that fails to start is named in the error, never its command line; the log gets the details', async () => {
    const logged: { details: Record<string, unknown>; message: string }[] = [];
    const own = new ToolServerRegistry({
      db: store.db,
      fetch: guard.fetch,
      log: (details, message) => logged.push({ details, message }),
    });
    const ownExec = createMcpToolExecutor({ tools: own });
    const tools = [{ name: 'filter', inputSchema: { type: 'object' } }];
    // Registered while it worked; now its binary is gone, or it exits at once.
    await insertToolServer(store.db, {
      name: 'vanished',
      transport: 'stdio',
      url: null,
      command: '/opt/SUPERSECRET-PATH/mcp-server',
      args: ['--api-key=SUPERSECRET-ARG'],
      tools,
      createdBy: 'root',
    });
    await insertToolServer(store.db, {
      name: 'crashes',
      transport: 'stdio',
      url: null,
      command: process.execPath,
      args: ['-e', 'process.exit(3)', '--', '--api-key=SUPERSECRET-ARG'],
      tools,
      createdBy: 'root',
    });
    try {
      for (const [name, why] of [
        ['vanished', /its command was not found/],
        ['crashes', /exited or closed its output|could not be started/],
      ] as const) {
        const err = (await rejection(ownExec.execute({}, makeContext({ node: node(`${name}/filter`) })))) as TrellisError;
        expect(err.message).toMatch(new RegExp(`cannot start the stdio MCP server "${name}"`));
        expect(err.message).toMatch(why);
        const shown = JSON.stringify(err.toInfo());
        expect(shown).not.toContain('SUPERSECRET');
        expect(shown).not.toContain(process.execPath);
      }
      expect(logged.map((l) => l.details.server)).toEqual(['vanished', 'crashes']);
      expect(logged[0]?.details.args).toEqual(['--api-key=SUPERSECRET-ARG']);
    } finally {
      await own.delete('vanished');
      await own.delete('crashes');
      await own.close();
    }
  });
});
