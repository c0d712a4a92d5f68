/**
 * The cap on stdio MCP server processes alive at once in one Trellis process (every server,
 * every run, registration probes included). A run has at most one process per stdio server
 * (its map items share it), but many runs at once would each start their own: beyond the cap,
 * a start waits, first come first served, for a process to end (a run ending, an idle session
 * closing, a crash). The wait is bounded by the caller; past it the call fails with a retryable
 * `RATE_LIMITED` that says what to change. Nothing is evicted: a run's process holds its session
 * state, and closing it behind the run's back would lose that state silently.
 */
import { TrellisError } from '@trellis/core';

/** A held slot; `release` is idempotent (a process may be seen to end more than once). */
export interface ProcessSlot {
  release(): void;
}

interface Waiter {
  grant(slot: ProcessSlot): void;
}

export interface SlotRequest {
  /** The server's registered name (for the error). */
  server: string;
  /** How long to wait for a slot when every one is taken. */
  waitMs: number;
  /** Aborts the wait (the run's session was dropped, the host closes). */
  signal?: AbortSignal;
}

export class ProcessSlots {
  private used = 0;
  private readonly waiting: Waiter[] = [];

  /** `max`: processes alive at once; `setting`: where the user changes it (named in errors). */
  constructor(
    readonly max: number,
    private readonly setting = 'TRELLIS_MCP_STDIO_MAX_PROCESSES',
  ) {}

  /** Slots held now (tests, metrics). */
  get inUse(): number {
    return this.used;
  }

  /** Starts waiting for a slot now (tests, metrics). */
  get queued(): number {
    return this.waiting.length;
  }

  acquire(req: SlotRequest): Promise<ProcessSlot> {
    if (req.signal?.aborted) return Promise.reject(req.signal.reason);
    if (this.used < this.max) {
      this.used++;
      return Promise.resolve(this.slot());
    }
    return new Promise<ProcessSlot>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const leave = () => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        grant: (slot) => {
          leave();
          resolve(slot);
        },
      };
      const onAbort = () => {
        leave();
        reject(req.signal?.reason);
      };
      timer = setTimeout(() => {
        leave();
        reject(
          TrellisError.retryable(
            'RATE_LIMITED',
            `the stdio MCP server "${req.server}" cannot start: ${this.max} stdio MCP server processes are running on this host (the cap, ${this.setting}) and none ended within ${req.waitMs} ms. Each run keeps its own process per stdio server until it ends: raise the cap, shorten TRELLIS_MCP_SESSION_IDLE_MS, run fewer runs at once, or register a server that keeps no state with "sessions": "shared"`,
            { category: 'remote', retryAfterMs: Math.min(30_000, Math.max(1_000, Math.round(req.waitMs / 2))) },
          ),
        );
      }, req.waitMs);
      timer.unref?.();
      req.signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  private slot(): ProcessSlot {
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        const next = this.waiting[0];
        // Handed straight to the first waiter: the count stays, nobody can jump the queue.
        if (next) next.grant(this.slot());
        else this.used--;
      },
    };
  }
}
