/**
 * The cap on stdio MCP processes (TRELLIS_MCP_STDIO_MAX_PROCESSES): a run's calls (a map's
 * items) share its one process whatever the cap; runs beyond the cap wait, first come first
 * served, for a process to end; a wait longer than the call's timeout fails with a retryable
 * RATE_LIMITED naming the cap; a cancelled call leaves the queue. Real child processes (the
 * official-SDK stateful fixture).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TrellisError } from '@trellis/core';
import { createOutboundGuard, LOOPBACK_ALLOW_HOSTS } from '@trellis/runtime';
import { openSqlite, type SqliteHandle } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connectors, createConnectorExecutors, mcpLimits } from '../src/index.ts';
import { ProcessSlots } from '../src/mcp/process-slots.ts';
import { makeContext, rejection } from './helpers/context.ts';

const fixture = fileURLToPath(new URL('./fixtures/stateful-mcp-stdio.ts', import.meta.url));
const admin = { name: 'root', isAdmin: true };
const guard = createOutboundGuard({ allowHosts: LOOPBACK_ALLOW_HOSTS });
let dir: string;
let store: SqliteHandle;
let c: Connectors;

function call(tool: string, input: object, runId: string, timeoutMs?: number) {
  const ctx = makeContext({ node: { id: 'n', type: 'tool_call', tool, ...(timeoutMs ? { timeoutMs } : {}) } });
  const ctxInRun = { ...ctx, runId };
  return {
    controller: ctx.controller,
    result: c.toolCall(tool)?.execute(input, ctxInRun) as Promise<{ kind: string; output: Record<string, unknown> }>,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-mcp-cap-'));
  store = await openSqlite(join(dir, 't.db'));
  c = createConnectorExecutors({ db: store.db, guard, env: { TRELLIS_MCP_STDIO_MAX_PROCESSES: '1' } });
  await c.tools.register({ name: 'cap', command: process.execPath, args: ['--import', 'tsx', fixture] }, admin);
}, 60_000);
afterAll(async () => {
  await c?.close();
  await store?.close();
  await guard.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ProcessSlots', () => {
  it('grants up to the cap, then first come first served; an aborted wait leaves the queue', async () => {
    const slots = new ProcessSlots(1);
    const a = await slots.acquire({ server: 's', waitMs: 10_000 });
    const order: string[] = [];
    const abort = new AbortController();
    const b = slots.acquire({ server: 's', waitMs: 10_000 }).then((s) => {
      order.push('b');
      return s;
    });
    const dropped = slots.acquire({ server: 's', waitMs: 10_000, signal: abort.signal });
    const d = slots.acquire({ server: 's', waitMs: 10_000 }).then((s) => {
      order.push('d');
      return s;
    });
    expect(slots.queued).toBe(3);
    abort.abort(new Error('cancelled'));
    expect(((await rejection(dropped)) as Error).message).toBe('cancelled');
    expect(slots.queued).toBe(2);
    a.release();
    a.release(); // idempotent: hands over one slot, not two
    (await b).release();
    (await d).release();
    expect(order).toEqual(['b', 'd']);
    expect(slots.inUse).toBe(0);
  });

  it('a wait past its bound fails retryably with RATE_LIMITED naming the setting', async () => {
    const slots = new ProcessSlots(1);
    await slots.acquire({ server: 's', waitMs: 10_000 });
    const err = (await rejection(slots.acquire({ server: 'git', waitMs: 30 }))) as TrellisError;
    expect(err).toBeInstanceOf(TrellisError);
    expect(err.code).toBe('RATE_LIMITED');
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/"git" cannot start: 1 stdio MCP server processes .*TRELLIS_MCP_STDIO_MAX_PROCESSES/);
    expect(slots.queued).toBe(0);
  });

  it('the cap is settable and checked', () => {
    expect(mcpLimits({}, {}).stdioMaxProcesses).toBe(32);
    expect(mcpLimits({}, { TRELLIS_MCP_STDIO_MAX_PROCESSES: '4' }).stdioMaxProcesses).toBe(4);
    expect(() => mcpLimits({}, { TRELLIS_MCP_STDIO_MAX_PROCESSES: '0' })).toThrow(/TRELLIS_MCP_STDIO_MAX_PROCESSES/);
  });
});

describe('the stdio process cap, with real processes', () => {
  it("a run's many calls share its one process under a cap of 1", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => call('cap/slow', { ms: 20 }, 'run_map').result));
    expect(new Set(results.map((r) => r.output.pid)).size).toBe(1);
    expect(c.tools.pool.stdioSlots.inUse).toBe(1);
    await c.endRun('run_map');
    expect(c.tools.pool.stdioSlots.inUse).toBe(0);
  }, 60_000);

  it('another run waits for the process slot, and starts once the first run ends', async () => {
    const first = await call('cap/slow', { ms: 1 }, 'run_a').result;
    // Past its own timeout: a clear, retryable error, not a hang.
    const late = (await rejection(call('cap/slow', { ms: 1 }, 'run_b', 300).result)) as TrellisError;
    expect(late.code).toBe('RATE_LIMITED');
    expect(late.retryable).toBe(true);
    expect(late.message).toContain('"cap" cannot start');
    // Within its timeout: it waits in the queue…
    const waiting = call('cap/slow', { ms: 1 }, 'run_c', 30_000);
    const cancelled = call('cap/slow', { ms: 1 }, 'run_d', 30_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(c.tools.pool.stdioSlots.queued).toBe(2);
    // …a cancelled node leaves it…
    cancelled.controller.abort(new TrellisError('CANCELLED', 'the run was cancelled'));
    expect(((await rejection(cancelled.result)) as TrellisError).code).toBe('CANCELLED');
    // …and the run ending frees the slot for the next run in line.
    await c.endRun('run_a');
    const second = await waiting.result;
    expect(second.output.pid).not.toBe(first.output.pid);
    await c.endRun('run_c');
    await c.endRun('run_d');
    expect(c.tools.pool.stdioSlots.inUse).toBe(0);
    expect(c.tools.pool.stdioSlots.queued).toBe(0);
  }, 60_000);
});
