/**
 * The last bytes a stdio MCP server wrote to stderr. The pipe is drained continuously (a server
 * whose stderr nobody reads blocks or fails with `EAGAIN` once the pipe fills), only the newest
 * `limit` bytes are kept, and what is shown is scrubbed of the server's command line and
 * environment values: errors name a stdio server, they never describe how it is started.
 */
import type { Stream } from 'node:stream';

/** Bytes of stderr kept per stdio connection (`TRELLIS_MCP_STDERR_BYTES` overrides). */
export const DEFAULT_STDERR_TAIL_BYTES = 8 * 1024;
/** Characters of the tail quoted in an error message. */
const SHOWN_CHARS = 2_000;

export class StderrTail {
  private chunks: Buffer[] = [];
  private size = 0;
  private ended = false;
  private readonly endWaiters: (() => void)[] = [];

  constructor(
    private readonly limit: number,
    /** Strings never shown (command, arguments, environment values). */
    private readonly hidden: readonly string[],
  ) {}

  /** Starts draining `stream` into the ring. */
  attach(stream: Stream | null): void {
    if (!stream) {
      this.markEnded();
      return;
    }
    stream.on('data', (chunk: Buffer | string) => this.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    stream.on('end', () => this.markEnded());
    stream.on('close', () => this.markEnded());
    stream.on('error', () => this.markEnded());
  }

  push(chunk: Buffer): void {
    if (chunk.length >= this.limit) {
      this.chunks = [chunk.subarray(chunk.length - this.limit)];
      this.size = this.limit;
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.limit) {
      const first = this.chunks[0] as Buffer;
      const over = this.size - this.limit;
      if (first.length <= over) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(over);
        this.size -= over;
      }
    }
  }

  /** Waits (at most `ms`) for the stream to end, so a dying process's last words are in. */
  settled(ms: number): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref?.();
      this.endWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The kept bytes as text, hidden strings replaced by `[redacted]`, trimmed to what an error shows. */
  text(maxChars = SHOWN_CHARS): string {
    let text = Buffer.concat(this.chunks).toString('utf8');
    // Longest first, so a value that contains a shorter one is hidden whole.
    for (const h of [...this.hidden].sort((a, b) => b.length - a.length)) text = text.split(h).join('[redacted]');
    text = text.trim();
    return text.length > maxChars ? `…${text.slice(text.length - maxChars)}` : text;
  }

  private markEnded(): void {
    if (this.ended) return;
    this.ended = true;
    for (const w of this.endWaiters.splice(0)) w();
  }
}

/** The strings a stdio server's stderr must not reveal: its command, arguments and environment values. */
export function hiddenStringsOf(endpoint: {
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: Record<string, string>;
}): string[] {
  const all = [endpoint.command, ...endpoint.args, ...(endpoint.cwd ? [endpoint.cwd] : []), ...Object.values(endpoint.env ?? {})];
  // Very short values ("-y", "1") would blank out ordinary words; they are not secrets either.
  return [...new Set(all.filter((s) => s.length >= 4))];
}

/** `; its stderr ended with: …` or nothing when the server wrote nothing. */
export function stderrSuffix(tail: StderrTail | undefined): string {
  const text = tail?.text() ?? '';
  return text ? `; its stderr ended with:\n${text}` : '';
}
