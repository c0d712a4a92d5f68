/**
 * A run's live event feed over the WebSocket of SPEC §4, resilient to dropped connections.
 *
 * Why it cannot lose or repeat events: the stream remembers the highest `seq` it delivered and
 * reconnects with `after=<that seq>`, and it drops any event at or below it (a server may replay
 * an overlap). Events are delivered strictly in seq order; a gap (seq jumps) makes the stream
 * reconnect from the last seq rather than deliver out of order.
 */
import { parseSocketMessage } from '@trellis/client';
import type { RunEvent } from '@trellis/core';

export type StreamState = 'connecting' | 'open' | 'reconnecting' | 'ended' | 'closed';

/** The part of the WebSocket API the stream uses; injectable for tests. */
export interface SocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  close(): void;
}

export interface RunStreamOptions {
  /** URL for a connection resuming after `after`. */
  url(after: number): string;
  onEvent(event: RunEvent): void;
  onState?(state: StreamState): void;
  /** Seq already delivered (e.g. from a snapshot); default 0. */
  after?: number;
  socket?: (url: string) => SocketLike;
  /** Reconnect delays in ms, by attempt; the last repeats. */
  backoffMs?: readonly number[];
  /**
   * Reads events after a seq over plain HTTP (`GET …/events?after=`). Used between reconnect
   * attempts once the socket has failed `pollAfterFailures` times in a row, so a network that
   * blocks WebSockets still shows the run, only less promptly.
   */
  poll?: (after: number) => Promise<RunEvent[]>;
  pollAfterFailures?: number;
}

const TERMINAL = new Set(['run.succeeded', 'run.failed', 'run.cancelled']);

/**
 * The events of one socket message, parsed by the API schema: `{ kind: 'event', event }` gives
 * its event, `{ kind: 'end' }` none. A message off the schema throws (the stream reconnects
 * from its last seq rather than guessing).
 */
export function eventsOfMessage(data: unknown): RunEvent[] {
  const msg = parseSocketMessage(typeof data === 'string' ? data : String(data));
  return msg.kind === 'event' ? [msg.event as RunEvent] : [];
}

export class RunStream {
  private lastSeq: number;
  private socket: SocketLike | undefined;
  private attempts = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private state: StreamState = 'connecting';
  private readonly opts: RunStreamOptions;

  constructor(opts: RunStreamOptions) {
    this.opts = opts;
    this.lastSeq = opts.after ?? 0;
  }

  get seq(): number {
    return this.lastSeq;
  }

  get currentState(): StreamState {
    return this.state;
  }

  start(): void {
    this.connect();
  }

  /** Closes the connection for good. */
  close(): void {
    this.setState('closed');
    if (this.timer) clearTimeout(this.timer);
    this.detach();
  }

  /** Drops the current connection as a network failure would (used by tests and "reconnect"). */
  drop(): void {
    const s = this.socket;
    this.detach();
    if (s) this.scheduleReconnect();
  }

  private connect(): void {
    if (this.state === 'closed' || this.state === 'ended') return;
    const make = this.opts.socket ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
    let s: SocketLike;
    try {
      s = make(this.opts.url(this.lastSeq));
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = s;
    s.onopen = () => {
      this.attempts = 0;
      this.setState('open');
    };
    s.onmessage = (ev) => {
      let events: RunEvent[];
      try {
        events = eventsOfMessage(ev.data);
      } catch {
        this.drop();
        return;
      }
      for (const e of events) {
        if (!this.accept(e)) return;
      }
    };
    s.onerror = () => {};
    s.onclose = () => {
      if (this.socket !== s) return;
      this.socket = undefined;
      this.scheduleReconnect();
    };
  }

  /** Delivers one event if it is the next one; false when the stream restarted. */
  private accept(e: RunEvent): boolean {
    if (e.seq <= this.lastSeq) return true;
    if (e.seq !== this.lastSeq + 1) {
      this.drop();
      return false;
    }
    this.lastSeq = e.seq;
    this.opts.onEvent(e);
    if (TERMINAL.has(e.type)) {
      this.setState('ended');
      this.detach();
      return false;
    }
    return true;
  }

  private scheduleReconnect(): void {
    if (this.state === 'closed' || this.state === 'ended') return;
    this.setState('reconnecting');
    const delays = this.opts.backoffMs ?? [250, 500, 1000, 2000, 5000];
    const delay = delays[Math.min(this.attempts, delays.length - 1)] ?? 1000;
    this.attempts++;
    if (this.timer) clearTimeout(this.timer);
    const poll = this.opts.poll;
    const usePoll = poll !== undefined && this.attempts > (this.opts.pollAfterFailures ?? 3);
    this.timer = setTimeout(() => {
      if (!usePoll) return this.connect();
      poll(this.lastSeq)
        .then(
          (events) => {
            for (const e of [...events].sort((a, b) => a.seq - b.seq)) if (!this.accept(e)) break;
          },
          () => {},
        )
        .finally(() => this.connect());
    }, delay);
  }

  private detach(): void {
    const s = this.socket;
    this.socket = undefined;
    if (!s) return;
    s.onopen = s.onmessage = s.onclose = s.onerror = null;
    try {
      s.close();
    } catch {
      // already closed
    }
  }

  private setState(state: StreamState): void {
    if (this.state === state) return;
    this.state = state;
    this.opts.onState?.(state);
  }
}
