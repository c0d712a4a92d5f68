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
import type { Database, StoredTool, ToolServerRecord } from '@trellis/store';
import { deleteToolServer, getToolServer, insertToolServer, listToolServers, updateToolServerTools } from '@trellis/store';
import type { Kysely } from 'kysely';
import { checkHeaderTemplates, type HeaderTemplates, redacting, renderHeaders, SecretRedactor } from '../auth/headers.ts';
import { type McpConnectionLog, McpConnectionPool, type McpEndpoint } from './connections.ts';
import { stderrSuffix } from './stderr-tail.ts';

export type NewToolServerInput =
  | { name: string; url: string; headers?: HeaderTemplates; command?: undefined; args?: undefined }
  | { name: string; command: string; args?: string[]; url?: undefined; headers?: HeaderTemplates };

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
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

function toInfo(r: ToolServerRecord): ToolServerInfo {
  return { ...r };
}

function endpointOf(r: Pick<ToolServerRecord, 'name' | 'transport' | 'url' | 'command' | 'args'>, cwd?: string): McpEndpoint {
  return r.transport === 'http'
    ? { transport: 'http', url: r.url as string, name: r.name }
    : { transport: 'stdio', name: r.name, command: r.command as string, args: r.args, cwd };
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
    this.pool = new McpConnectionPool(options.fetch, options.log, options.stderrTailBytes);
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
      endpoint = { transport: 'stdio', name: input.name, command: input.command, args: input.args ?? [], cwd: this.options.cwd };
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
    await this.pool.drop(r.id);
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
   * Runs `fn` with the server's pooled client; when the connection turns out to be gone (server
   * restarted, session expired) it reconnects once and tries again.
   */
  async withClient<T>(server: ToolServerRecord, fn: (client: Client) => Promise<T>): Promise<T> {
    return redacting(this.redactor, () => this.withClientUnredacted(server, fn));
  }

  private async withClientUnredacted<T>(server: ToolServerRecord, fn: (client: Client) => Promise<T>): Promise<T> {
    const endpoint = endpointOf(server, this.options.cwd);
    if (endpoint.transport === 'http' && Object.keys(server.headers).length > 0) {
      endpoint.headers = await renderHeaders(server.headers, this.options.secrets, this.redactor);
      // A replaced secret: the open connection was made with the old value; open a new one.
      const hash = createHash('sha256').update(JSON.stringify(endpoint.headers)).digest('hex');
      if (this.headerHashes.get(server.id) !== hash) {
        await this.pool.drop(server.id);
        this.headerHashes.set(server.id, hash);
      }
    }
    try {
      return await fn(await this.pool.get(server.id, endpoint));
    } catch (err) {
      if (!isConnectionLost(err)) throw err;
      await this.pool.drop(server.id);
      try {
        return await fn(await this.pool.get(server.id, endpoint));
      } catch (again) {
        throw isConnectionLost(again) ? await this.withStderr(server.id, endpoint, again, 'a call') : again;
      }
    }
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
    const text = `the stdio MCP server "${endpoint.name}" failed during ${during}: ${msg}${stderrSuffix(tail)}`;
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
