/**
 * Time as the runner sees it. Production uses the system clock; tests use ManualClock so that
 * backoff delays, timeouts and deadlines are exact and take no real time.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  now(): number;
  /** `background` timers do not keep the process alive (periodic housekeeping). */
  setTimeout(fn: () => void, ms: number, options?: { background?: boolean }): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms, options) {
    // Node timers overflow past 2^31-1 ms (~24.8 days); longer waits re-arm.
    const max = 2_147_483_647;
    let handle: NodeJS.Timeout;
    const arm = (left: number) => {
      handle = setTimeout(
        () => {
          if (left > max) arm(left - max);
          else fn();
        },
        Math.min(Math.max(0, left), max),
      );
      if (options?.background) handle.unref();
    };
    arm(ms);
    return { cancel: () => clearTimeout(handle) };
  },
};

/** A clock that moves only when told to. `advance` fires due timers in time order. */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return { cancel: () => this.timers.delete(id) };
  }

  /** Timers still armed, soonest first (for assertions on exact delays). */
  pending(): number[] {
    return [...this.timers.values()].map((t) => t.at - this.t).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= target && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
      // Let the work the timer started (commits, executors) settle before the next one fires.
      await new Promise((r) => setImmediate(r));
    }
    this.t = target;
  }
}
