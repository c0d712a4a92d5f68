/**
 * The MCP client's limits are settable (options, environment) and the registration's session is
 * ended with a DELETE. Against the demo pricing server over Streamable HTTP on loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrellisError } from '@trellis/core';
import { createOutboundGuard, LOOPBACK_ALLOW_HOSTS } from '@trellis/runtime';
import { openSqlite, type SqliteHandle } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningMcpServer, startPricingHttpServer } from '../../../examples/mcp/http.ts';
import { createConnectorExecutors, mcpLimits, ToolServerRegistry } from '../src/index.ts';
import { makeContext, rejection } from './helpers/context.ts';

const guard = createOutboundGuard({ allowHosts: LOOPBACK_ALLOW_HOSTS });
const admin = { name: 'root', isAdmin: true };
let dir: string;
let store: SqliteHandle;
let http: RunningMcpServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-mcp-limits-'));
  store = await openSqlite(join(dir, 'trellis.db'));
  http = await startPricingHttpServer();
});
afterAll(async () => {
  await http.close();
  await store.close();
  await guard.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('MCP limits', () => {
  it('defaults, environment and options, in that order; a bad value names its variable', () => {
    expect(mcpLimits({}, {})).toEqual({
      callTimeoutMs: 60_000,
      stderrTailBytes: 8192,
      stdioMaxMessageBytes: 10 * 1024 * 1024,
      sessionIdleMs: 300_000,
      stdioMaxProcesses: 32,
    });
    expect(
      mcpLimits(
        {},
        {
          TRELLIS_MCP_CALL_TIMEOUT_MS: '5000',
          TRELLIS_MCP_STDERR_BYTES: '1024',
          TRELLIS_MCP_STDIO_MAX_MESSAGE_BYTES: '2048',
          TRELLIS_MCP_SESSION_IDLE_MS: '60000',
        },
      ),
    ).toEqual({
      callTimeoutMs: 5000,
      stderrTailBytes: 1024,
      stdioMaxMessageBytes: 2048,
      sessionIdleMs: 60_000,
      stdioMaxProcesses: 32,
    });
    expect(mcpLimits({ callTimeoutMs: 10 }, { TRELLIS_MCP_CALL_TIMEOUT_MS: '5000' }).callTimeoutMs).toBe(10);
    expect(() => mcpLimits({}, { TRELLIS_MCP_CALL_TIMEOUT_MS: '1m' })).toThrow(
      /TRELLIS_MCP_CALL_TIMEOUT_MS must be a whole number/,
    );
    expect(() => mcpLimits({}, { TRELLIS_MCP_STDERR_BYTES: '0' })).toThrow(/TRELLIS_MCP_STDERR_BYTES/);
  });

  it('TRELLIS_MCP_CALL_TIMEOUT_MS bounds a call whose node sets no timeout', async () => {
    const connectors = createConnectorExecutors({ db: store.db, guard, env: { TRELLIS_MCP_CALL_TIMEOUT_MS: '300' } });
    try {
      await connectors.tools.register({ name: 'slowpricing', url: http.url }, admin);
      const exec = connectors.toolCall('slowpricing/sleep');
      const err = (await rejection(
        exec?.execute({ ms: 5_000 }, makeContext({ node: { id: 'n', type: 'tool_call', tool: 'slowpricing/sleep' } })) ??
          Promise.resolve(),
      )) as TrellisError;
      expect(err.code).toBe('TIMEOUT');
      expect(err.retryable).toBe(true);
      // The node's own timeout still wins over the host default.
      const ok = await exec?.execute(
        { ms: 500 },
        makeContext({ node: { id: 'n', type: 'tool_call', tool: 'slowpricing/sleep', timeoutMs: 5_000 } }),
      );
      expect(ok?.kind).toBe('succeeded');
      await connectors.tools.delete('slowpricing');
    } finally {
      await connectors.close();
    }
  });

  it('registration ends its MCP session with a DELETE (the server frees it at once)', async () => {
    const requests: { method: string; session: string | null; status: number }[] = [];
    const recording: typeof fetch = async (input, init) => {
      const res = await guard.fetch(input, init);
      const headers = new Headers(init?.headers);
      requests.push({ method: init?.method ?? 'GET', session: headers.get('mcp-session-id'), status: res.status });
      return res;
    };
    const registry = new ToolServerRegistry({ db: store.db, fetch: recording, checkUrl: guard.checkUrl });
    try {
      await registry.register({ name: 'pricing-del', url: http.url }, admin);
      const deletes = requests.filter((r) => r.method === 'DELETE');
      expect(deletes).toHaveLength(1);
      expect(deletes[0]?.session).toBeTruthy();
      expect(deletes[0]?.status).toBe(200);
      // The session is gone on the server: a request on it is now refused.
      const after = await guard.fetch(http.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': deletes[0]?.session ?? '',
          'mcp-protocol-version': '2025-06-18',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(after.status).toBe(404);
      await registry.delete('pricing-del');
    } finally {
      await registry.close();
    }
  });
});
