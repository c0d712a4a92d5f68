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
import { DEFAULT_STDERR_TAIL_BYTES, hiddenStringsOf, StderrTail, stderrSuffix } from './stderr-tail.ts';

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
  /** Per stdio connection key, the newest bytes of its stderr (kept until the key is dropped). */
  private readonly tails = new Map<string, StderrTail>();

  /**
   * @param fetchImpl the outbound guard's fetch, used for every HTTP request to a server.
   * @param log receives failed connections with everything known (command, arguments, cause).
   * @param stderrBytes bytes of stderr kept per stdio server (default 8 KiB).
   */
  constructor(
    private readonly fetchImpl: typeof fetch,
    private readonly log: McpConnectionLog = () => undefined,
    private readonly stderrBytes: number = DEFAULT_STDERR_TAIL_BYTES,
  ) {}

  /** The stderr tail of the stdio connection under `key` (the last one, if it has closed). */
  stderrTail(key: string): StderrTail | undefined {
    return this.tails.get(key);
  }

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
    this.tails.delete(key);
    await client?.then((c) => endSession(c).then(() => c.close())).catch(() => undefined);
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
    let tail: StderrTail | undefined;
    if (endpoint.transport === 'stdio') {
      // Drained from the start: an unread pipe fills up and stalls (or fails) the server.
      tail = new StderrTail(this.stderrBytes, hiddenStringsOf(endpoint));
      tail.attach((transport as StdioClientTransport).stderr);
      this.tails.set(key, tail);
    }
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
      // A dying process's last words arrive just after its stdout closes.
      await tail?.settled(300);
      await client.close().catch(() => undefined);
      if (endpoint.transport === 'stdio' && !(err instanceof TrellisError))
        this.log(
          { server: endpoint.name, command: endpoint.command, args: endpoint.args, err, stderr: tail?.text(8_192) },
          'a stdio MCP server failed to start',
        );
      throw connectError(endpoint, err, tail);
    }
    return client;
  }
}

/**
 * Ends a Streamable HTTP session politely (`DELETE` with its session id, bounded to 2 s) so the
 * server frees it at once instead of keeping it until it expires; stdio has nothing to end.
 */
async function endSession(client: Client): Promise<void> {
  const transport = client.transport;
  if (!(transport instanceof StreamableHTTPClientTransport) || !transport.sessionId) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    transport.terminateSession().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 2_000);
    }),
  ]);
  clearTimeout(timer);
}

function connectError(endpoint: McpEndpoint, err: unknown, tail?: StderrTail): TrellisError {
  if (err instanceof TrellisError) return err;
  if (endpoint.transport === 'stdio') {
    // Named, never described: no command, argument, path or environment reaches the message
    // (the stderr tail has them replaced by "[redacted]").
    return TrellisError.retryable(
      'NETWORK_ERROR',
      `cannot start the stdio MCP server "${endpoint.name}": ${stdioFailure(err)}; an administrator finds the details in the server log${stderrSuffix(tail)}`,
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
