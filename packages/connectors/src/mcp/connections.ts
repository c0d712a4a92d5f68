/**
 * MCP connections, one per registered server, opened on first use and reused; a connection
 * that closes (server restarted, process exited, session dropped) is forgotten, and the next
 * call opens a new one. Nothing here runs at import time: a stdio server is only spawned when a
 * tool on it is listed or called.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { TrellisError } from '@trellis/core';

/**
 * How to reach a server: Streamable HTTP, or a local process over stdio. `name` is the
 * registered server's name: the only thing errors say about a stdio server (its command line
 * and environment may carry secrets, and node errors are read by everyone who reads the run).
 */
export type McpEndpoint =
  | {
      transport: 'http';
      url: string;
      name?: string;
      /** Rendered registration headers, sent on every request of the connection. */
      headers?: Record<string, string>;
    }
  | { transport: 'stdio'; name: string; command: string; args: string[]; cwd?: string; env?: Record<string, string> };

/** Where the full story of a failed connection goes (the server's log, for its administrator). */
export type McpConnectionLog = (details: Record<string, unknown>, message: string) => void;

export class McpConnectionPool {
  private readonly open = new Map<string, Promise<Client>>();

  /**
   * @param fetchImpl the outbound guard's fetch, used for every HTTP request to a server.
   * @param log receives failed connections with everything known (command, arguments, cause).
   */
  constructor(
    private readonly fetchImpl: typeof fetch,
    private readonly log: McpConnectionLog = () => undefined,
  ) {}

  /** The connected client for `key`, connecting (or reconnecting) when needed. */
  get(key: string, endpoint: McpEndpoint): Promise<Client> {
    let client = this.open.get(key);
    if (!client) {
      client = this.connect(key, endpoint);
      this.open.set(key, client);
      client.catch(() => this.open.delete(key));
    }
    return client;
  }

  /** Forgets a connection (after a transport failure) so the next `get` reconnects. */
  async drop(key: string): Promise<void> {
    const client = this.open.get(key);
    this.open.delete(key);
    await client?.then((c) => c.close()).catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open.keys()].map((k) => this.drop(k)));
  }

  private async connect(key: string, endpoint: McpEndpoint): Promise<Client> {
    const client = new Client({ name: 'trellis', version: '0.1.0' });
    const transport =
      endpoint.transport === 'http'
        ? new StreamableHTTPClientTransport(new URL(endpoint.url), {
            fetch: this.fetchImpl,
            ...(endpoint.headers && Object.keys(endpoint.headers).length > 0
              ? { requestInit: { headers: endpoint.headers } }
              : {}),
          })
        : new StdioClientTransport({
            command: endpoint.command,
            args: endpoint.args,
            cwd: endpoint.cwd,
            env: endpoint.env,
            stderr: 'pipe',
          });
    client.onclose = () => {
      this.open.get(key)?.then(
        (c) => {
          if (c === client) this.open.delete(key);
        },
        () => undefined,
      );
    };
    try {
      await client.connect(transport, { timeout: 15_000 });
    } catch (err) {
      await client.close().catch(() => undefined);
      if (endpoint.transport === 'stdio' && !(err instanceof TrellisError))
        this.log(
          { server: endpoint.name, command: endpoint.command, args: endpoint.args, err },
          'a stdio MCP server failed to start',
        );
      throw connectError(endpoint, err);
    }
    return client;
  }
}

function connectError(endpoint: McpEndpoint, err: unknown): TrellisError {
  if (err instanceof TrellisError) return err;
  if (endpoint.transport === 'stdio') {
    // Named, never described: no command, argument, path or environment reaches the message.
    return TrellisError.retryable(
      'NETWORK_ERROR',
      `cannot start the stdio MCP server "${endpoint.name}": ${stdioFailure(err)}; an administrator finds the details in the server log`,
      { category: 'remote' },
    );
  }
  const msg = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
  return TrellisError.retryable('NETWORK_ERROR', `cannot connect to the MCP server ${endpoint.url}: ${msg}`, {
    category: 'remote',
    cause: err,
  });
}

/** What went wrong starting a process, in words that cannot quote its command line. */
function stdioFailure(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return 'its command was not found';
  if (code === 'EACCES' || code === 'EPERM') return 'its command may not be executed';
  if (err instanceof McpError && err.code === ErrorCode.RequestTimeout) return 'it did not answer the MCP handshake in time';
  if (err instanceof McpError && err.code === ErrorCode.ConnectionClosed)
    return 'the process exited or closed its output before the MCP handshake finished';
  return 'the process could not be started or did not complete the MCP handshake';
}
