/**
 * The MCP tool-server registry: servers registered by Streamable HTTP URL (editors) or by a
 * stdio command (admins only: registering one spawns a process on this machine), their tools
 * listed with input schemas, and tool lookup by `<server>/<tool>` for `tool_call` nodes.
 */

import { createHash } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { TrellisError } from '@trellis/core';
import type { SecretSource } from '@trellis/runtime';
import type { Database, StoredTool, ToolServerRecord, ToolServerSessions } from '@trellis/store';
import {
  deleteToolServer,
  getToolServer,
  insertToolServer,
  listToolServers,
  TOOL_SERVER_SESSIONS,
  updateToolServerTools,
} from '@trellis/store';
import type { Kysely } from 'kysely';
import { checkHeaderTemplates, type HeaderTemplates, redacting, renderHeaders, SecretRedactor } from '../auth/headers.ts';
import { type McpConnectionLog, McpConnectionPool, type McpEndpoint } from './connections.ts';
import { stderrSuffix } from './stderr-tail.ts';
import { checkCwd, checkEnvTemplates, envView } from './stdio-env.ts';
import { MESSAGE_TOO_LARGE_CODE } from './stdio-transport.ts';

/** A run's MCP session is closed after this long unused (`TRELLIS_MCP_SESSION_IDLE_MS`). */
export const DEFAULT_SESSION_IDLE_MS = 5 * 60_000;

/**
 * `sessions`: `run` (default) — one MCP session (a stdio process) per run, opened on the run's
 * first call and closed when the run ends or has been idle; `shared` — one pooled session for
 * every run and user, only for servers that keep no state between calls.
 */
export type NewToolServerInput =
  | {
      name: string;
      url: string;
      headers?: HeaderTemplates;
      sessions?: ToolServerSessions;
      command?: undefined;
      args?: undefined;
      env?: undefined;
      cwd?: undefined;
    }
  | {
      name: string;
      command: string;
      args?: string[];
      /** Environment variables (values may hold `{{ $secrets.NAME }}`); administrators only. */
      env?: Record<string, string>;
      /** Absolute working directory; administrators only. */
      cwd?: string;
      sessions?: ToolServerSessions;
      url?: undefined;
      headers?: HeaderTemplates;
    };

/** Where a call runs: its run (for run-scoped sessions), and how long it may wait for a stdio process slot. */
export interface CallScope {
  runId: string;
  /** The node's signal: a cancelled or timed-out node stops waiting for a slot. */
  signal?: AbortSignal;
  /** Longest wait for a stdio process slot (the node's timeout); default: the registry's `stdioSlotWaitMs`. */
  waitMs?: number;
}

/** The API shape (SPEC §6: `{ id, name, tools: [{ name, description, inputSchema }] }`). */
export interface ToolServerInfo {
  id: string;
  name: string;
  transport: 'http' | 'stdio';
  url: string | null;
  command: string | null;
  args: string[];
  tools: StoredTool[];
  /** Header templates sent on every request (`{{ $secrets.NAME }}` references, never values). */
  headers: HeaderTemplates;
  /** `run`: a session per run; `shared`: one pooled session (declared stateless). */
  sessions: ToolServerSessions;
  /** stdio: environment variable names, with `{{ $secrets.NAME }}` references as written and other values `[hidden]`. */
  env: Record<string, string>;
  /** stdio: the working directory (null: the host's). */
  cwd: string | null;
  createdBy: string;
  createdAt: string;
  refreshedAt: string;
}

/** One tool of one server, named as a `tool_call` node names it. */
export interface ToolInfo extends StoredTool {
  /** `<server name>/<tool name>` */
  id: string;
  server: string;
  serverId: string;
}

export interface ToolServerRegistryOptions {
  db: Kysely<Database>;
  /** The outbound guard's fetch: every MCP-over-HTTP request goes through it. */
  fetch: typeof fetch;
  /** Checks a server URL before connecting (the guard's `checkUrl`). */
  checkUrl?: (url: string) => unknown;
  /** Working directory for stdio servers (default: the process's). */
  cwd?: string;
  /** Values for `{{ $secrets.NAME }}` in registration headers (global secrets only). */
  secrets?: SecretSource;
  /** Where a stdio server's start failure is told in full (command, arguments, cause): the server log. */
  log?: McpConnectionLog;
  /** Bytes of stderr kept per stdio server, quoted (scrubbed) in its errors (default 8 KiB). */
  stderrTailBytes?: number;
  /** Largest message read from a stdio server (default 10 MiB); a larger reply fails that call with OUTPUT_TOO_LARGE. */
  stdioMaxMessageBytes?: number;
  /** A run's session closes after this long unused (default 5 minutes), even if the run goes on. */
  sessionIdleMs?: number;
  /** stdio processes alive at once on this host, every server and run together (default 32). */
  maxStdioProcesses?: number;
  /** Longest wait for a stdio process slot when the call gives none (default 60 s). */
  stdioSlotWaitMs?: number;
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

function toInfo(r: ToolServerRecord): ToolServerInfo {
  return { ...r, env: envView(r.env) };
}

function endpointOf(
  r: Pick<ToolServerRecord, 'name' | 'transport' | 'url' | 'command' | 'args' | 'cwd'>,
  cwd?: string,
): McpEndpoint {
  return r.transport === 'http'
    ? { transport: 'http', url: r.url as string, name: r.name }
    : { transport: 'stdio', name: r.name, command: r.command as string, args: r.args, cwd: r.cwd ?? cwd };
}

/** True for failures where the connection, not the tool, is at fault: reconnecting may help. */
export function isConnectionLost(err: unknown): boolean {
  if (err instanceof StreamableHTTPError) return err.code === 404 || err.code === undefined;
  if (err instanceof McpError) return err.code === ErrorCode.ConnectionClosed;
  return err instanceof Error && /not connected|connection closed|socket hang up|ECONNRESET|EPIPE/i.test(err.message);
}

export class ToolServerRegistry {
  readonly pool: McpConnectionPool;
  /** Every secret value rendered into a server's headers: hidden in whatever comes back. */
  readonly redactor = new SecretRedactor();
  /** Per server id, a hash of the headers its open connection was made with. */
  private readonly headerHashes = new Map<string, string>();
  private readonly db: Kysely<Database>;
  private readonly options: ToolServerRegistryOptions;

  constructor(options: ToolServerRegistryOptions) {
    this.db = options.db;
    this.options = options;
    this.pool = new McpConnectionPool({
      fetch: options.fetch,
      ...(options.log ? { log: options.log } : {}),
      ...(options.stderrTailBytes ? { stderrBytes: options.stderrTailBytes } : {}),
      ...(options.stdioMaxMessageBytes ? { stdioMaxMessageBytes: options.stdioMaxMessageBytes } : {}),
      ...(options.maxStdioProcesses ? { maxStdioProcesses: options.maxStdioProcesses } : {}),
      ...(options.stdioSlotWaitMs ? { stdioSlotWaitMs: options.stdioSlotWaitMs } : {}),
      onIdleClose: (key) => this.forgetIdle(key),
    });
    this.sessionIdleMs = options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS;
  }

  /**
   * Called with a run id the first time a run opens a session; the host passes a function that
   * calls `endRun` when that run ends (the engine's events), so run sessions close with their run.
   */
  onRunSession: ((runId: string) => (() => void) | undefined) | undefined;
  /** Per run with sessions, how to stop watching for its end (given by `onRunSession`). */
  private readonly runWatchers = new Map<string, () => void>();
  private readonly sessionIdleMs: number;
  /** Per run, the keys of the sessions it opened. */
  private readonly runSessions = new Map<string, Set<string>>();
  private transient = 0;

  /** Closes every session `runId` opened (HTTP sessions get their DELETE; stdio processes stop). */
  async endRun(runId: string): Promise<void> {
    const keys = this.runSessions.get(runId);
    if (!keys) return;
    this.runSessions.delete(runId);
    this.runWatchers.get(runId)?.();
    this.runWatchers.delete(runId);
    for (const k of keys) this.headerHashes.delete(k);
    await Promise.all([...keys].map((k) => this.pool.drop(k)));
  }

  /**
   * A run session closed for idleness: forgotten, and once none of the run's is left, its
   * end is no longer watched (a run that ends on another worker leaves nothing behind here).
   */
  private forgetIdle(key: string): void {
    const at = key.indexOf('@run:');
    if (at < 0) return;
    const runId = key.slice(at + 5);
    const keys = this.runSessions.get(runId);
    keys?.delete(key);
    this.headerHashes.delete(key);
    if (keys && keys.size === 0) {
      this.runSessions.delete(runId);
      this.runWatchers.get(runId)?.();
      this.runWatchers.delete(runId);
    }
  }

  /** Runs that have sessions open (tests, metrics). */
  get runsWithSessions(): string[] {
    return [...this.runSessions.keys()];
  }

  /** Connects, lists the tools and stores the server. A stdio command needs `isAdmin`. */
  async register(input: NewToolServerInput, principal: { name: string; isAdmin: boolean }): Promise<ToolServerInfo> {
    return redacting(this.redactor, () => this.registerUnredacted(input, principal));
  }

  private async registerUnredacted(
    input: NewToolServerInput,
    principal: { name: string; isAdmin: boolean },
  ): Promise<ToolServerInfo> {
    const headers = checkHeaderTemplates(input.headers);
    const envTemplates = checkEnvTemplates(input.env);
    const sessions = input.sessions ?? 'run';
    if (!(TOOL_SERVER_SESSIONS as readonly string[]).includes(sessions)) {
      throw new TrellisError(
        'INPUT_INVALID',
        '"sessions" is "run" (a session per run, the default) or "shared" (one pooled session, for a stateless server)',
        {
          category: 'user',
        },
      );
    }
    if (input.url !== undefined && (input.env !== undefined || input.cwd !== undefined)) {
      throw new TrellisError('INPUT_INVALID', '"env" and "cwd" apply to stdio servers ("command") only', { category: 'user' });
    }
    if (!NAME.test(input.name ?? '')) {
      throw new TrellisError(
        'INPUT_INVALID',
        'a tool server name is 1-64 letters, digits, ".", "_" or "-" (it prefixes its tools: name/tool)',
        {
          category: 'user',
        },
      );
    }
    let endpoint: McpEndpoint;
    if (input.url !== undefined) {
      try {
        new URL(input.url);
      } catch {
        throw new TrellisError('INPUT_INVALID', `"${input.url}" is not a valid URL`, { category: 'user' });
      }
      this.options.checkUrl?.(input.url);
      endpoint = {
        transport: 'http',
        url: input.url,
        headers: await renderHeaders(headers, this.options.secrets, this.redactor),
      };
    } else if (input.command !== undefined) {
      if (Object.keys(headers).length > 0) {
        throw new TrellisError('INPUT_INVALID', '"headers" apply to Streamable HTTP servers only, not to stdio', {
          category: 'user',
        });
      }
      if (!principal.isAdmin) {
        throw new TrellisError(
          'FORBIDDEN',
          'only admins may register a stdio tool server: it starts a process on the Trellis host',
          {
            category: 'user',
          },
        );
      }
      const cwd = checkCwd(input.cwd) ?? this.options.cwd;
      endpoint = {
        transport: 'stdio',
        name: input.name,
        command: input.command,
        args: input.args ?? [],
        ...(cwd ? { cwd } : {}),
        env: await renderHeaders(envTemplates, this.options.secrets, this.redactor),
      };
    } else {
      throw new TrellisError('INPUT_INVALID', 'give either "url" (Streamable HTTP) or "command" and "args" (stdio)', {
        category: 'user',
      });
    }
    if (await getToolServer(this.db, input.name)) {
      throw new TrellisError('CONFLICT', `a tool server named "${input.name}" is already registered`, { category: 'user' });
    }
    const probeKey = `probe:${input.name}:${Date.now()}`;
    let tools: StoredTool[];
    try {
      const client = await this.pool.get(probeKey, endpoint);
      try {
        tools = await listToolsOf(client);
      } catch (err) {
        throw await this.withStderr(probeKey, endpoint, err, 'listing its tools');
      }
    } finally {
      await this.pool.drop(probeKey);
    }
    const record = await insertToolServer(this.db, {
      name: input.name,
      transport: endpoint.transport,
      url: endpoint.transport === 'http' ? endpoint.url : null,
      command: endpoint.transport === 'stdio' ? endpoint.command : null,
      args: endpoint.transport === 'stdio' ? endpoint.args : undefined,
      tools,
      headers,
      sessions,
      env: envTemplates,
      cwd: endpoint.transport === 'stdio' ? (checkCwd(input.cwd) ?? null) : null,
      createdBy: principal.name,
    });
    return toInfo(record);
  }

  async list(): Promise<ToolServerInfo[]> {
    return (await listToolServers(this.db)).map(toInfo);
  }

  async get(idOrName: string): Promise<ToolServerInfo | undefined> {
    const r = await getToolServer(this.db, idOrName);
    return r ? toInfo(r) : undefined;
  }

  async delete(idOrName: string): Promise<boolean> {
    const r = await getToolServer(this.db, idOrName);
    if (!r) return false;
    const prefix = `${r.id}@`;
    await Promise.all(
      this.pool
        .keys()
        .filter((k) => k === r.id || k.startsWith(prefix))
        .map((k) => this.pool.drop(k)),
    );
    return deleteToolServer(this.db, r.id);
  }

  /** Lists the server's tools again (connecting if needed) and stores them. */
  async refresh(idOrName: string): Promise<ToolServerInfo> {
    const r = await this.require(idOrName);
    const tools = await this.withClient(r, (c) => listToolsOf(c));
    return toInfo((await updateToolServerTools(this.db, r.id, tools)) as ToolServerRecord);
  }

  /** Every tool of every server as stored at the last listing (no connection is opened). */
  async listTools(): Promise<ToolInfo[]> {
    const servers = await listToolServers(this.db);
    return servers.flatMap((s) => s.tools.map((t) => ({ ...t, id: `${s.name}/${t.name}`, server: s.name, serverId: s.id })));
  }

  /** Finds `<server>/<tool>` from the stored listing (no connection is opened). */
  async findTool(fullName: string): Promise<{ server: ToolServerRecord; tool: StoredTool } | undefined> {
    const slash = fullName.indexOf('/');
    if (slash <= 0) return undefined;
    const server = await getToolServer(this.db, fullName.slice(0, slash));
    const tool = server?.tools.find((t) => t.name === fullName.slice(slash + 1));
    return server && tool ? { server, tool } : undefined;
  }

  /**
   * Runs `fn` with a client of the server: for a `shared` server its pooled session; for a
   * `run` server the session of `scope.runId` (opened on the run's first call, closed when the
   * run ends or after `sessionIdleMs` unused), or, with no run, a session of its own closed
   * right after. When the connection turns out to be gone (server restarted, process crashed,
   * session expired) it reconnects once and tries again.
   */
  async withClient<T>(server: ToolServerRecord, fn: (client: Client) => Promise<T>, scope?: CallScope): Promise<T> {
    return redacting(this.redactor, () => this.withClientUnredacted(server, fn, scope));
  }

  private async withClientUnredacted<T>(
    server: ToolServerRecord,
    fn: (client: Client) => Promise<T>,
    scope?: CallScope,
  ): Promise<T> {
    const endpoint = endpointOf(server, this.options.cwd);
    if (endpoint.transport === 'stdio' && Object.keys(server.env).length > 0) {
      endpoint.env = await renderHeaders(server.env, this.options.secrets, this.redactor);
    }
    let key = server.id;
    let idleMs: number | undefined;
    let transient = false;
    if (server.sessions === 'run') {
      if (scope) {
        key = `${server.id}@run:${scope.runId}`;
        idleMs = this.sessionIdleMs;
        let keys = this.runSessions.get(scope.runId);
        if (!keys) {
          keys = new Set();
          this.runSessions.set(scope.runId, keys);
          const unwatch = this.onRunSession?.(scope.runId);
          if (unwatch) this.runWatchers.set(scope.runId, unwatch);
        }
        keys.add(key);
      } else {
        key = `${server.id}@call:${++this.transient}`;
        transient = true;
      }
    }
    if (endpoint.transport === 'http' && Object.keys(server.headers).length > 0) {
      endpoint.headers = await renderHeaders(server.headers, this.options.secrets, this.redactor);
    }
    const rendered = endpoint.transport === 'http' ? endpoint.headers : endpoint.env;
    if (!transient && rendered && Object.keys(rendered).length > 0) {
      // A replaced secret: the open connection was made with the old value; open a new one.
      const hash = createHash('sha256').update(JSON.stringify(rendered)).digest('hex');
      if (this.headerHashes.get(key) !== hash) {
        await this.pool.drop(key);
        this.headerHashes.set(key, hash);
      }
    }
    const opts = {
      group: server.id,
      ...(idleMs !== undefined ? { idleMs } : {}),
      ...(scope?.signal ? { signal: scope.signal } : {}),
      ...(scope?.waitMs !== undefined ? { waitMs: scope.waitMs } : {}),
    };
    try {
      return await this.pool.use(key, endpoint, fn, opts);
    } catch (err) {
      if (!isConnectionLost(err)) throw await this.withExit(key, endpoint, err);
      // A process that died during the call may have acted on it: not sent again here (the
      // error is retryable, so the node's retry policy decides); the next call starts it anew.
      if (endpoint.transport === 'stdio' && err instanceof McpError && err.code === ErrorCode.ConnectionClosed) {
        const failure = await this.withStderr(key, endpoint, err, 'a call');
        await this.pool.drop(key);
        throw failure;
      }
      await this.pool.drop(key);
      try {
        return await this.pool.use(key, endpoint, fn, opts);
      } catch (again) {
        throw isConnectionLost(again) ? await this.withStderr(key, endpoint, again, 'a call') : again;
      }
    } finally {
      if (transient) {
        await this.pool.drop(key);
        this.headerHashes.delete(key);
      }
    }
  }

  /** A call refused for a reply over the stdio message limit: OUTPUT_TOO_LARGE (the connection stays). */
  private async withExit(_key: string, endpoint: McpEndpoint, err: unknown): Promise<unknown> {
    if (err instanceof McpError && err.code === MESSAGE_TOO_LARGE_CODE) {
      return new TrellisError(
        'OUTPUT_TOO_LARGE',
        `the MCP server "${endpoint.name ?? endpoint.transport}" ${err.message.replace(/^MCP error -?\d+: /, '')}; the connection stays open. Ask for less (a range, a page) or raise the limit`,
        { category: 'remote', details: (err.data as Record<string, unknown> | undefined) ?? {} },
      );
    }
    return err;
  }

  /**
   * A stdio server's failure with the (scrubbed) tail of its stderr, which usually says why:
   * "Connection closed" or "Method not found" alone does not. Other errors pass unchanged.
   */
  private async withStderr(key: string, endpoint: McpEndpoint, err: unknown, during: string): Promise<unknown> {
    if (endpoint.transport !== 'stdio' || err instanceof TrellisError) return err;
    const tail = this.pool.stderrTail(key);
    if (isConnectionLost(err)) await tail?.settled(300);
    const msg = err instanceof Error ? err.message : String(err);
    const exit = this.pool.exitOf(key);
    const how = exit ? ` (the process exited with ${exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`})` : '';
    const text = `the stdio MCP server "${endpoint.name}" failed during ${during}: ${msg}${how}${stderrSuffix(tail)}`;
    return isConnectionLost(err)
      ? TrellisError.retryable('NETWORK_ERROR', text, { category: 'remote' })
      : new TrellisError('TOOL_ERROR', text, { category: 'remote' });
  }

  async close(): Promise<void> {
    await this.pool.closeAll();
  }

  private async require(idOrName: string): Promise<ToolServerRecord> {
    const r = await getToolServer(this.db, idOrName);
    if (!r) throw new TrellisError('TOOL_NOT_FOUND', `no tool server "${idOrName}" is registered`, { category: 'user' });
    return r;
  }
}

async function listToolsOf(client: Client): Promise<StoredTool[]> {
  const tools: StoredTool[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor ? { cursor } : undefined);
    for (const t of page.tools) {
      tools.push({
        name: t.name,
        ...(t.description ? { description: t.description } : {}),
        inputSchema: t.inputSchema as Record<string, unknown>,
      });
    }
    cursor = page.nextCursor;
  } while (cursor);
  return tools;
}
