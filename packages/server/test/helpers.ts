/**
 * Test harness: a real SQLite file, the real engine and the real server (through inject()),
 * with tokens for an administrator and three users. Tools are plain functions registered as
 * built-in tools, so workflows run without any network.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnectorExecutors } from '@trellis/connectors';
import type { Executor } from '@trellis/core';
import { createEngine, createExecutorResolver, createOutboundGuard, type RunnerEngine } from '@trellis/runtime';
import { createToken, createWorkflowResolver, ensureAdmin, openSqlite, type SqliteHandle, SqliteRunStore } from '@trellis/store';
import type { LightMyRequestResponse } from 'fastify';
import { type BuildServerOptions, buildServer, type TrellisServer } from '../src/index.ts';

export interface TestServer {
  server: TrellisServer;
  handle: SqliteHandle;
  engine: RunnerEngine;
  dbPath: string;
  tokens: { admin: string; alice: string; bob: string; carol: string };
  request(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    options?: { token?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** A tool that returns its input (after `delayMs`, if given). */
export function echoTool(): Executor & { calls: number } {
  const t = {
    calls: 0,
    async execute(input: unknown) {
      t.calls++;
      const delay = (input as { delayMs?: number } | null)?.delayMs;
      if (typeof delay === 'number') await new Promise((r) => setTimeout(r, delay));
      return { kind: 'succeeded' as const, output: input };
    },
  };
  return t;
}

export async function startTestServer(
  options: Partial<BuildServerOptions> & { tools?: Record<string, Executor> } = {},
): Promise<TestServer> {
  const dbPath = join(mkdtempSync(join(tmpdir(), 'trellis-srv-')), 'trellis.db');
  const handle = await openSqlite(dbPath);
  const engine = createEngine({
    store: new SqliteRunStore(handle),
    executors: createExecutorResolver({ tools: { 'test.echo': echoTool(), ...options.tools } }),
    pollMs: 50,
    workflows: createWorkflowResolver(handle.db),
  });
  await engine.whenReady();
  const { tools: _tools, ...rest } = options;
  const guard = createOutboundGuard();
  const connectors = createConnectorExecutors({ db: handle.db, guard });
  const server = await buildServer({ store: handle, engine, connectors, checkResponses: true, consoleDir: false, ...rest });
  await ensureAdmin(handle.db, ADMIN_TOKEN);
  const tokens = {
    admin: ADMIN_TOKEN,
    alice: (await createToken(handle.db, { principal: 'alice' })).token,
    bob: (await createToken(handle.db, { principal: 'bob' })).token,
    carol: (await createToken(handle.db, { principal: 'carol' })).token,
  };
  return {
    server,
    handle,
    engine,
    dbPath,
    tokens,
    request: (method, url, o = {}) => {
      const headers: Record<string, string> = { ...o.headers };
      const token = o.token === undefined ? tokens.alice : o.token;
      if (token !== null) headers.authorization = `Bearer ${token}`;
      return server.app.inject({
        method,
        url,
        headers,
        ...(o.body !== undefined ? { payload: o.body as string | object } : {}),
      });
    },
    close: async () => {
      await server.app.close();
      await engine.shutdown(0);
      await connectors.close();
      await guard.close();
      await handle.close();
    },
  };
}

/** A small valid workflow: echo → condition → two branches → join. */
export function branchingWorkflow(name = 'branching') {
  return {
    name,
    description: 'echo, branch on a condition, join',
    inputSchema: { type: 'object', properties: { n: { type: 'number' } } },
    nodes: [
      { id: 'fetch', type: 'tool_call', tool: 'test.echo', input: { n: '$context.n' } },
      { id: 'is_big', type: 'condition', expression: '$fetch.n > 10' },
      { id: 'big', type: 'transform', expression: "{ 'size': 'big', 'n': $fetch.n }" },
      { id: 'small', type: 'transform', expression: "{ 'size': 'small', 'n': $fetch.n }" },
      { id: 'done', type: 'join', mode: 'any' },
    ],
    edges: [
      { from: 'fetch', to: 'is_big' },
      { from: 'is_big', to: 'big', condition: '$is_big.value = true' },
      { from: 'is_big', to: 'small', condition: '$is_big.value = false' },
      { from: 'big', to: 'done' },
      { from: 'small', to: 'done' },
    ],
    output: { big: '$big', small: '$small' },
  };
}

/** A workflow that waits at a human gate. */
export function gateWorkflow(name = 'gated') {
  return {
    name,
    nodes: [
      { id: 'prepare', type: 'transform', expression: "{ 'item': 'thing' }" },
      { id: 'approve', type: 'human_gate', prompt: 'Buy {{ $prepare.item }}?' },
      { id: 'after', type: 'transform', expression: "'bought ' & $prepare.item" },
    ],
    edges: [
      { from: 'prepare', to: 'approve' },
      { from: 'approve', to: 'after' },
    ],
  };
}

// biome-ignore lint/suspicious/noExplicitAny: assertions read arbitrary response JSON
export function json(res: LightMyRequestResponse): any {
  return res.json();
}
