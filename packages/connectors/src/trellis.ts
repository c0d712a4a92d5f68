/**
 * `createTrellis`: the one place where a process is wired together — a store, the outbound guard,
 * the built-in `http.request` tool, A2A agents and MCP tools, the host's own tools, and the
 * engine (leased on PostgreSQL). `trellis serve`, `trellis run` and `trellis worker` use it, and so
 * does a Node application that embeds Trellis (docs/runtime.md).
 *
 * Outbound rule, the same everywhere: agent and HTTP calls may reach the public internet; private
 * and loopback addresses only if listed in `allowHosts` (default: TRELLIS_ALLOW_HOSTS from the
 * environment — an explicit list replaces it) or, for loopback, with `allowLoopback`.
 */
import {
  compile,
  type ExecutionResult,
  type Executor,
  type ExecutorContext,
  type ExecutorResolver,
  TrellisError,
} from '@trellis/core';
import {
  createEngine,
  type EngineLogger,
  type LeasingOptions,
  type OutboundGuard,
  type RunnerEngine,
  type SecretSource,
} from '@trellis/runtime';
import { createWorkflow, createWorkflowResolver, openStore, type Store } from '@trellis/store';
import type { Connectors } from './executors.ts';
import { createHostExecutors } from './host.ts';

/**
 * A tool the host provides, for `tool_call` nodes naming it: a function from the node's resolved
 * input to its output (throw a TrellisError to fail; `retryable: true` to be retried), or a full
 * Executor (to report cost or wait for a person).
 */
export type ToolFunction = (input: unknown, ctx: ExecutorContext) => unknown | Promise<unknown>;

export interface TrellisOptions {
  /** A SQLite file path (created if missing), a `postgres://` URL, or a store opened by the caller (then not closed by `close()`). */
  db: string | Store;
  /** Private or loopback hosts/CIDRs outbound calls may reach. Default: TRELLIS_ALLOW_HOSTS. */
  allowHosts?: readonly string[];
  /** Also allow loopback addresses (`trellis run`, `--demo`, local development). */
  allowLoopback?: boolean;
  /** The host's own tools by name (`tool_call` nodes with `"tool": "<name>"`); they take precedence over MCP tools. */
  tools?: Readonly<Record<string, ToolFunction | Executor>>;
  /** Where `{{ $secrets.NAME }}` references are resolved (e.g. `vaultSecretSource(vault, store.db)`); absent: every secret reference fails clearly. */
  secrets?: SecretSource;
  /** Replaces the executors entirely (tests); receives what the default executors are built from. */
  executors?: (ctx: {
    store: Store;
    guard: OutboundGuard;
    connectors: Connectors;
    allowHosts: readonly string[];
  }) => ExecutorResolver;
  /**
   * Several processes sharing a PostgreSQL database claim runs by lease. Default: on for
   * PostgreSQL (with these settings when given), off for SQLite; false turns it off.
   */
  leasing?: false | Omit<LeasingOptions, 'store'>;
  /** Where the engine reports (default: silent). */
  logger?: EngineLogger;
  /**
   * Resume unfinished runs on start (default true: `createTrellis` resolves once they are
   * resumed). `'deferred'`: only when `engine.startRecovery()` is called (a server opens its
   * port first).
   */
  recover?: boolean | 'deferred';
  /**
   * `workflow` nodes (sub-workflows) start workflows of this store; the owner of the parent's
   * workflow needs the `runner` role on the child. `trusted`: skip that check (a local tool whose
   * user owns the whole database, such as `trellis run`).
   */
  subWorkflows?: 'owner-permissions' | 'trusted';
}

export interface Trellis {
  readonly store: Store;
  /** Start runs, follow their events, decide gates, cancel, retry, await results. */
  readonly engine: RunnerEngine;
  /** The agent and tool-server registries. */
  readonly connectors: Connectors;
  /** The hosts outbound calls may reach beyond the public internet. */
  readonly allowHosts: readonly string[];
  /**
   * Saves a workflow definition as a new workflow (version 1) owned by `owner` (default
   * `"app"`). Throws a TrellisError (category `user`, `details`: every problem) if it is invalid.
   */
  saveWorkflow(
    definition: unknown,
    options?: { name?: string; owner?: string; description?: string },
  ): Promise<{ id: string; version: number }>;
  /** Stops the engine (running attempts get `graceMs`, default 10 s, then are resumed by the next start) and closes everything opened here. */
  close(graceMs?: number): Promise<void>;
}

function toExecutor(tool: ToolFunction | Executor): Executor {
  if (typeof tool !== 'function') return tool;
  return {
    async execute(input, ctx): Promise<ExecutionResult> {
      return { kind: 'succeeded', output: await tool(input, ctx) };
    },
  };
}

/** Opens (or takes) a store and starts an engine with every node type wired; resolves once unfinished runs are resumed. */
export async function createTrellis(options: TrellisOptions): Promise<Trellis> {
  const ownsStore = typeof options.db === 'string';
  const store = typeof options.db === 'string' ? await openStore(options.db) : options.db;
  let host: ReturnType<typeof createHostExecutors> | undefined;
  let engine: ReturnType<typeof createEngine> | undefined;
  try {
    const tools = Object.fromEntries(Object.entries(options.tools ?? {}).map(([name, t]) => [name, toExecutor(t)]));
    host = createHostExecutors({
      db: store.db,
      ...(options.allowHosts ? { allowHosts: options.allowHosts } : {}),
      ...(options.allowLoopback ? { allowLoopback: true } : {}),
      ...(options.secrets ? { secrets: options.secrets } : {}),
      // A stdio MCP server that fails to start is named in node errors; the details go to this log.
      ...(options.logger ? { log: (details, message) => options.logger?.warn(message, details) } : {}),
      tools,
    });
    const executors = options.executors
      ? options.executors({ store, guard: host.guard, connectors: host.connectors, allowHosts: host.allowHosts })
      : host.resolver;
    const leasing = options.leasing === false || !store.leases ? undefined : { ...options.leasing, store: store.leases };
    engine = createEngine({
      store: store.runs,
      executors,
      workflows: createWorkflowResolver(store.db, { trusted: options.subWorkflows === 'trusted' }),
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.recover !== undefined ? { recover: options.recover } : {}),
      ...(leasing ? { leasing } : {}),
    });
    // A run's MCP sessions close with the run (its terminal event, as this process commits or relays it).
    const hub = engine.hub;
    host.connectors.watchRunEnds((runId, listener) => hub.on(runId, listener));
    if (options.recover !== 'deferred') await engine.whenReady();
  } catch (err) {
    await engine?.shutdown(0);
    await host?.close();
    if (ownsStore) await store.close();
    throw err;
  }
  const wired = host;
  const runner = engine;
  let closing: Promise<void> | undefined;
  return {
    store,
    engine: runner,
    connectors: wired.connectors,
    allowHosts: wired.allowHosts,
    async saveWorkflow(definition, saveOptions = {}) {
      const compiled = compile(definition);
      if (!compiled.ok) {
        const first = compiled.errors[0];
        throw new TrellisError(
          first?.code ?? 'SCHEMA',
          `the workflow definition is invalid: ${compiled.errors.map((e) => e.message).join('; ')}`,
          {
            category: 'user',
            details: compiled.errors,
          },
        );
      }
      return createWorkflow(store.db, {
        name: saveOptions.name ?? compiled.compiled.definition.name,
        description: saveOptions.description ?? null,
        definition,
        owner: saveOptions.owner ?? 'app',
      });
    },
    close(graceMs = 10_000) {
      closing ??= (async () => {
        await runner.shutdown(graceMs);
        await wired.close();
        if (ownsStore) await store.close();
      })();
      return closing;
    },
  };
}
