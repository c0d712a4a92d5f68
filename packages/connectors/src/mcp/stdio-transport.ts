/**
 * MCP over stdio, with a bounded read side. The SDK's own stdio transport closes the whole
 * connection when one message is larger than its buffer (10 MiB), which fails every call in
 * flight on that process and hides why. Here a line over `maxMessageBytes` is skipped as it
 * streams by (only its first and last bytes are kept, to find the JSON-RPC id) and answered
 * locally with an error for that request alone: the process and the other calls carry on.
 *
 * The environment is the SDK's safe default (PATH, HOME, …) plus the registration's `env`; the
 * child's stderr is a pipe read by the caller from the start (see stderr-tail.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { type JSONRPCMessage, JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';

/** The JSON-RPC error code of a reply dropped for its size (an implementation-defined server-error code). */
export const MESSAGE_TOO_LARGE_CODE = -32_070;

/** Default largest message read from a stdio server: 10 MiB, as the SDK's. */
export const DEFAULT_STDIO_MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

const KEEP = 512;

export interface StdioProcessParams {
  command: string;
  args: string[];
  /** Added to the SDK's default environment (rendered values: never logged). */
  env?: Record<string, string>;
  cwd?: string;
  maxMessageBytes?: number;
}

/** How the process ended (null while it runs). */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class StdioProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  /** The child's stderr, readable before `start()` so nothing is lost. */
  readonly stderr = new PassThrough();
  exit: ProcessExit | null = null;
  /** Set when this side asked the process to stop (a close that is not a crash). */
  closing = false;

  private child: ChildProcess | undefined;
  private readonly reader: LineReader;

  constructor(private readonly params: StdioProcessParams) {
    this.reader = new LineReader(params.maxMessageBytes ?? DEFAULT_STDIO_MAX_MESSAGE_BYTES);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): Promise<void> {
    if (this.child) throw new Error('StdioProcessTransport already started');
    return new Promise((resolve, reject) => {
      const child = spawn(this.params.command, this.params.args, {
        env: { ...getDefaultEnvironment(), ...this.params.env },
        cwd: this.params.cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
        shell: false,
        windowsHide: true,
      });
      this.child = child;
      child.on('error', (err) => {
        reject(err);
        this.onerror?.(err);
      });
      child.on('spawn', () => resolve());
      child.on('close', (code, signal) => {
        this.exit = { code, signal };
        this.child = undefined;
        this.onclose?.();
      });
      child.stdin?.on('error', (err) => this.onerror?.(err));
      child.stdout?.on('error', (err) => this.onerror?.(err));
      child.stdout?.on('data', (chunk: Buffer) => this.read(chunk));
      child.stderr?.pipe(this.stderr);
    });
  }

  private read(chunk: Buffer): void {
    for (const item of this.reader.push(chunk)) {
      if (typeof item === 'string') {
        let message: JSONRPCMessage;
        try {
          message = JSONRPCMessageSchema.parse(JSON.parse(item));
        } catch (err) {
          this.onerror?.(err as Error);
          continue;
        }
        this.onmessage?.(message);
        continue;
      }
      const id = idOfOversized(item.head, item.tail);
      const what = `a message of ${item.bytes} bytes, over the ${this.reader.max}-byte limit of one stdio message (TRELLIS_MCP_STDIO_MAX_MESSAGE_BYTES)`;
      if (id === undefined) {
        // Nobody to fail but everyone waiting: end the connection (calls fail, retryable, and reconnect).
        this.onerror?.(new Error(`the server sent ${what} that names no request id`));
        void this.close();
        continue;
      }
      this.onmessage?.({
        jsonrpc: '2.0',
        id,
        error: { code: MESSAGE_TOO_LARGE_CODE, message: `the server replied with ${what}`, data: { bytes: item.bytes } },
      } as JSONRPCMessage);
    }
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      const stdin = this.child?.stdin;
      if (!stdin) {
        reject(new Error('Not connected'));
        return;
      }
      if (stdin.write(`${JSON.stringify(message)}\n`)) resolve();
      else stdin.once('drain', resolve);
    });
  }

  /** Ends the process: stdin closed, then SIGTERM after 2 s, then SIGKILL after 2 s more. */
  async close(): Promise<void> {
    this.closing = true;
    const child = this.child;
    if (!child) return;
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const wait = (ms: number) => Promise.race([closed, new Promise<void>((r) => setTimeout(r, ms).unref())]);
    child.stdin?.end();
    await wait(2000);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await wait(2000);
    }
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

type Line = string | { head: string; tail: string; bytes: number };

/**
 * Splits stdout into lines, holding at most `max` bytes of one line; a longer line is counted
 * and skipped, keeping only its first and last bytes.
 */
export class LineReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private big: { head: Buffer; tail: Buffer; bytes: number } | undefined;

  constructor(readonly max: number) {}

  push(chunk: Buffer): Line[] {
    const out: Line[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const part = chunk.subarray(start, nl === -1 ? chunk.length : nl);
      this.add(part);
      if (nl === -1) break;
      out.push(this.finish());
      start = nl + 1;
    }
    return out;
  }

  private add(part: Buffer): void {
    if (part.length === 0) return;
    if (this.big) {
      this.big.bytes += part.length;
      this.big.tail = lastBytes(Buffer.concat([this.big.tail, part]), KEEP);
      return;
    }
    this.chunks.push(part);
    this.size += part.length;
    if (this.size > this.max) {
      const all = Buffer.concat(this.chunks);
      this.big = { head: Buffer.from(all.subarray(0, KEEP)), tail: lastBytes(all, KEEP), bytes: all.length };
      this.chunks = [];
      this.size = 0;
    }
  }

  private finish(): Line {
    if (this.big) {
      const big = this.big;
      this.big = undefined;
      return { head: big.head.toString('utf8'), tail: big.tail.toString('utf8'), bytes: big.bytes };
    }
    const line = Buffer.concat(this.chunks).toString('utf8').replace(/\r$/, '');
    this.chunks = [];
    this.size = 0;
    return line;
  }
}

function lastBytes(b: Buffer, n: number): Buffer {
  return b.length <= n ? b : Buffer.from(b.subarray(b.length - n));
}

const ID = String.raw`(-?\d+|"(?:[^"\\]|\\.){0,200}")`;
/** `…,"id":7}` at the very end (the TypeScript SDK's order), or `{"jsonrpc":"2.0","id":7,…` at the start. */
const ID_AT_END = new RegExp(String.raw`"id"\s*:\s*${ID}\s*\}\s*$`);
const ID_AT_START = new RegExp(String.raw`^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*${ID}`);

/** The JSON-RPC id of a message only the ends of which were kept, when it can be told for sure. */
export function idOfOversized(head: string, tail: string): string | number | undefined {
  const m = ID_AT_END.exec(tail.replace(/\r$/, '')) ?? ID_AT_START.exec(head);
  if (!m?.[1]) return undefined;
  return JSON.parse(m[1]) as string | number;
}
