/**
 * End-to-end stack: the real server (@trellis/server) with the real engine and a temporary
 * SQLite file, listening on a loopback port and serving a fresh build of the console. Tools
 * are in-process executors so runs need no network: `test.echo`, `test.slow` (waits, honours
 * cancellation) and `test.flaky` (fails retryably on its first attempts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConnectorExecutors } from '@trellis/connectors';
import { type Executor, TrellisError } from '@trellis/core';
import {
  createEngine,
  createExecutorResolver,
  createOutboundGuard,
  type RunnerEngine,
  vaultSecretSource,
} from '@trellis/runtime';
import { buildServer, type TrellisServer } from '@trellis/server';
import {
  createWorkflowResolver,
  ensureAdmin,
  openSqlite,
  SecretVault,
  type SqliteHandle,
  SqliteRunStore,
  secretKeySource,
} from '@trellis/store';

export const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef';
const consoleRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface Stack {
  url: string;
  token: string;
  server: TrellisServer;
  engine: RunnerEngine;
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new TrellisError('CANCELLED', 'aborted'));
    });
  });
}

const seenOnce = new Set<string>();

const tools: Record<string, Executor> = {
  'test.echo': {
    async execute(input, ctx) {
      ctx.reportCost({ costUsd: 0.001 });
      return { kind: 'succeeded', output: input ?? {} };
    },
  },
  'test.slow': {
    async execute(input, ctx) {
      const ms = (input as { ms?: number } | null)?.ms ?? 60_000;
      await sleep(ms, ctx.signal);
      return { kind: 'succeeded', output: { sleptMs: ms } };
    },
  },
  /** Fails the first time it sees `input.key` (in any run), then succeeds: a step that works when retried. */
  'test.fails-once': {
    async execute(input, ctx) {
      const key = String((input as { key?: unknown } | null)?.key ?? ctx.nodeId);
      ctx.reportCost({ costUsd: 0.01 });
      if (!seenOnce.has(key)) {
        seenOnce.add(key);
        throw new TrellisError('TOOL_ERROR', `the provider is down for '${key}' (it works the next time)`);
      }
      return { kind: 'succeeded', output: { key } };
    },
  },
  'test.flaky': {
    async execute(input, ctx) {
      const failTimes = (input as { failTimes?: number } | null)?.failTimes ?? 1;
      if (ctx.attempt <= failTimes) throw TrellisError.retryable('HTTP_503', `flaky: attempt ${ctx.attempt} fails`);
      return { kind: 'succeeded', output: { attempt: ctx.attempt } };
    },
  },
};

/** Builds the console into a temporary directory (so parallel suites never share a dist). */
export async function buildConsole(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'trellis-console-'));
  const { build } = await import('vite');
  await build({
    configFile: join(consoleRoot, 'vite.config.ts'),
    root: consoleRoot,
    logLevel: 'error',
    build: { outDir, emptyOutDir: true },
  });
  return outDir;
}

export async function startStack(consoleDir: string | false): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-e2e-'));
  const handle: SqliteHandle = await openSqlite(join(dir, 'trellis.db'));
  const engine = createEngine({
    store: new SqliteRunStore(handle),
    executors: createExecutorResolver({ tools }),
    pollMs: 50,
    // Sub-workflows: `workflow` nodes start child runs, as in `trellis serve`.
    workflows: createWorkflowResolver(handle.db),
  });
  await engine.whenReady();
  // Real (empty) agent and tool registries, as `trellis serve` always has; the default guard.
  const guard = createOutboundGuard();
  // The secrets store with its key file beside the database, as `trellis serve` has.
  const secrets = await SecretVault.open(handle.db, secretKeySource(join(dir, 'trellis.db'), {}));
  const connectors = createConnectorExecutors({ db: handle.db, guard, secrets: vaultSecretSource(secrets, handle.db) });
  const server = await buildServer({ store: handle, engine, connectors, secrets, consoleDir });
  await ensureAdmin(handle.db, ADMIN_TOKEN);
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const addr = server.app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('no port');
  const url = `http://127.0.0.1:${addr.port}`;
  return {
    url,
    token: ADMIN_TOKEN,
    server,
    engine,
    async api<T>(method: string, path: string, body?: unknown): Promise<T> {
      const res = await fetch(`${url}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    },
    async close() {
      await server.app.close();
      await engine.shutdown(0);
      await connectors.close();
      await guard.close();
      await handle.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** True when the server serves the agent and tool registries (the connectors' routes). */
export function hasRegistryRoutes(stack: Stack): boolean {
  return stack.server.registeredRoutes.some((r) => r.url === '/api/v1/agents');
}
