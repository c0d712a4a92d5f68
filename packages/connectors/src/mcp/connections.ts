/**
 * MCP connections by key (the registry keys them per server and run, or per server for a
 * shared session), opened on first use and reused; a connection that closes (server restarted,
 * process exited, session dropped) is forgotten, and the next call opens a new one — after a
 * growing pause when a stdio process crashed. Connections with an idle limit are closed once
 * unused that long. Nothing here runs at import time: a stdio server is only spawned when a
 * tool on it is listed or called.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { TrellisError } from '@trellis/core';
import { type ProcessSlot, ProcessSlots } from './process-slots.ts';
import { DEFAULT_STDERR_TAIL_BYTES, hiddenStringsOf, StderrTail, stderrSuffix } from './stderr-tail.ts';
import { type ProcessExit, StdioProcessTransport } from './stdio-transport.ts';

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

/** What the pool knows of one open (or opening) connection. */
interface Entry {
  client: Promise<Client>;
  /** Calls running on it now (an idle sweep never closes a busy connection). */
  busy: number;
  lastUsed: number;
  /** Closed by the idle sweep once unused for that long (undefined: kept until dropped). */
  idleMs: number | undefined;
  /** Aborted when the entry is dropped: a start still waiting for a process slot gives up. */
  abort: AbortController;
}

/** Per call: the restart group, the idle limit, and how long (and until what) a stdio start may wait for a slot. */
export interface UseOptions {
  group?: string;
  idleMs?: number;
  /** Stops this caller's wait (the node was cancelled or timed out); a start shared with others goes on. */
  signal?: AbortSignal;
  /** Longest wait for a stdio process slot (default: the pool's `stdioSlotWaitMs`). */
  waitMs?: number;
}

/** A stdio server's crash record: restarts wait `restartDelayMs`, doubling per crash up to 30 s. */
interface Crashes {
  count: number;
  at: number;
}

const RESTART_BASE_MS = 200;
export const DEFAULT_MAX_STDIO_PROCESSES = 32;
const DEFAULT_SLOT_WAIT_MS = 60_000;
const RESTART_MAX_MS = 30_000;

export interface McpConnectionPoolOptions {
  /** The outbound guard's fetch, used for every HTTP request to a server. */
  fetch: typeof fetch;
  /** Receives failed connections with everything known (command, arguments, cause). */
  log?: McpConnectionLog;
  /** Bytes of stderr kept per stdio server (default 8 KiB). */
  stderrBytes?: number;
  /** Largest message read from a stdio server (default 10 MiB); a larger reply fails that call only. */
  stdioMaxMessageBytes?: number;
  /** stdio processes alive at once, every server and run together (default 32); starts beyond it wait. */
  maxStdioProcesses?: number;
  /** Longest wait for a stdio process slot when a call gives none (default 60 s), then RATE_LIMITED. */
  stdioSlotWaitMs?: number;
  /** Told of each connection the idle sweep closed. */
  onIdleClose?: (key: string) => void;
  now?: () => number;
}

export class McpConnectionPool {
  private readonly open = new Map<string, Entry>();
  /** Per stdio connection key, the newest bytes of its stderr (kept until the key is dropped). */
  private readonly tails = new Map<string, StderrTail>();
  /** Per stdio connection key, how its last process ended. */
  private readonly exits = new Map<string, ProcessExit>();
  /** Per restart group (a server), its recent crashes. */
  private readonly crashes = new Map<string, Crashes>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly log: McpConnectionLog;
  private readonly stderrBytes: number;
  private readonly now: () => number;
  /** The cap on stdio processes alive at once. */
  readonly stdioSlots: ProcessSlots;

  constructor(private readonly options: McpConnectionPoolOptions) {
    this.stdioSlots = new ProcessSlots(options.maxStdioProcesses ?? DEFAULT_MAX_STDIO_PROCESSES);
    this.fetchImpl = options.fetch;
    this.log = options.log ?? (() => undefined);
    this.stderrBytes = options.stderrBytes ?? DEFAULT_STDERR_TAIL_BYTES;
    this.now = options.now ?? Date.now;
  }

  /** The stderr tail of the stdio connection under `key` (the last one, if it has closed). */
  stderrTail(key: string): StderrTail | undefined {
    return this.tails.get(key);
  }

  /** How the last process under `key` ended, if it did. */
  exitOf(key: string): ProcessExit | undefined {
    return this.exits.get(key);
  }

  /** Keys of the connections open now (tests, metrics). */
  keys(): string[] {
    return [...this.open.keys()];
  }

  /** The wait before a crashed server of `group` is started again (0 when it has not crashed). */
  restartDelayMs(group: string): number {
    const c = this.crashes.get(group);
    if (!c) return 0;
    const delay = Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** (c.count - 1));
    return Math.max(0, c.at + delay - this.now());
  }

  /**
   * Runs `fn` with the connected client for `key`, connecting (or reconnecting) when needed.
   * `group` names the server for restart backoff; `idleMs` closes the connection once unused
   * that long.
   */
  async use<T>(key: string, endpoint: McpEndpoint, fn: (client: Client) => Promise<T>, opts: UseOptions = {}): Promise<T> {
    const entry = this.entry(key, endpoint, opts.group ?? key, opts.idleMs, opts.waitMs);
    entry.busy++;
    try {
      const out = await fn(await untilAborted(entry.client, opts.signal));
      this.crashes.delete(opts.group ?? key);
      return out;
    } finally {
      entry.busy--;
      entry.lastUsed = this.now();
    }
  }

  /** The connected client for `key`, connecting (or reconnecting) when needed. */
  get(key: string, endpoint: McpEndpoint, group = key): Promise<Client> {
    return this.entry(key, endpoint, group, undefined, undefined).client;
  }

  private entry(
    key: string,
    endpoint: McpEndpoint,
    group: string,
    idleMs: number | undefined,
    waitMs: number | undefined,
  ): Entry {
    let entry = this.open.get(key);
    if (!entry) {
      const abort = new AbortController();
      const client = this.connect(
        key,
        endpoint,
        group,
        abort.signal,
        waitMs ?? this.options.stdioSlotWaitMs ?? DEFAULT_SLOT_WAIT_MS,
      );
      const created: Entry = { client, busy: 0, lastUsed: this.now(), idleMs, abort };
      entry = created;
      this.open.set(key, created);
      client.catch(() => {
        if (this.open.get(key) === created) this.open.delete(key);
      });
      if (idleMs !== undefined) this.sweepEvery(idleMs);
    }
    return entry;
  }

  /** Forgets a connection (after a transport failure, or its run ended) and closes it. */
  async drop(key: string): Promise<void> {
    const entry = this.open.get(key);
    this.open.delete(key);
    this.tails.delete(key);
    this.exits.delete(key);
    entry?.abort.abort(new Error('the MCP session was closed before its process could start'));
    await entry?.client.then((c) => endSession(c).then(() => c.close())).catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    await Promise.all([...this.open.keys()].map((k) => this.drop(k)));
  }

  /** Closes connections that have an idle limit, are not in use and have been idle past it. */
  async sweepIdle(): Promise<void> {
    const now = this.now();
    const stale = [...this.open.entries()].filter(
      ([, e]) => e.idleMs !== undefined && e.busy === 0 && now - e.lastUsed >= e.idleMs,
    );
    await Promise.all(stale.map(([k]) => this.drop(k)));
    for (const [k] of stale) this.options.onIdleClose?.(k);
  }

  private sweepEvery(idleMs: number): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => void this.sweepIdle(), Math.max(1_000, Math.min(60_000, Math.round(idleMs / 2))));
    this.sweeper.unref();
  }

  private async connect(
    key: string,
    endpoint: McpEndpoint,
    group: string,
    signal: AbortSignal,
    slotWaitMs: number,
  ): Promise<Client> {
    const wait = endpoint.transport === 'stdio' ? this.restartDelayMs(group) : 0;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    // Every stdio process holds a slot from before it is spawned until it has ended.
    let slot: ProcessSlot | undefined;
    if (endpoint.transport === 'stdio')
      slot = await this.stdioSlots.acquire({ server: endpoint.name, waitMs: slotWaitMs, signal });
    const client = new Client({ name: 'trellis', version: '0.1.0' });
    let tail: StderrTail | undefined;
    let transport: StdioProcessTransport | StreamableHTTPClientTransport;
    if (endpoint.transport === 'http') {
      transport = new StreamableHTTPClientTransport(new URL(endpoint.url), {
        fetch: this.fetchImpl,
        ...(endpoint.headers && Object.keys(endpoint.headers).length > 0 ? { requestInit: { headers: endpoint.headers } } : {}),
      });
    } else {
      const stdio = new StdioProcessTransport({
        command: endpoint.command,
        args: endpoint.args,
        ...(endpoint.cwd ? { cwd: endpoint.cwd } : {}),
        ...(endpoint.env ? { env: endpoint.env } : {}),
        ...(this.options.stdioMaxMessageBytes ? { maxMessageBytes: this.options.stdioMaxMessageBytes } : {}),
      });
      transport = stdio;
      // Drained from the start: an unread pipe fills up and stalls (or fails) the server.
      tail = new StderrTail(this.stderrBytes, hiddenStringsOf(endpoint));
      tail.attach(stdio.stderr);
      this.tails.set(key, tail);
      this.exits.delete(key);
    }
    client.onclose = () => {
      slot?.release();
      if (transport instanceof StdioProcessTransport) {
        if (transport.exit) this.exits.set(key, transport.exit);
        // A process that ended without being asked to crashed: the next start waits a little longer.
        if (!transport.closing) {
          const c = this.crashes.get(group);
          this.crashes.set(group, { count: Math.min(20, (c?.count ?? 0) + 1), at: this.now() });
        }
      }
      const entry = this.open.get(key);
      entry?.client.then(
        (c) => {
          if (c === client && this.open.get(key) === entry) this.open.delete(key);
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
      slot?.release();
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

/** `p`, or the signal's reason as soon as it aborts (the work behind `p` goes on for others). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
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
