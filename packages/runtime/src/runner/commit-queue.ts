/**
 * Commit order. The engine writes behind: transitions accumulate in the open batch and commit
 * together. This queue guarantees that batches commit one at a time, in the order they were
 * closed: while one commit is in flight, everything decided meanwhile waits in the next batch
 * and commits (merged) once the first has finished. A later batch can therefore never overtake
 * an earlier one — on PostgreSQL, where a commit is a network round trip, two batches in
 * flight at once could land in either order (a run's "finished" before its nodes' rows).
 *
 * Every flush is awaited by someone: callers that need their transitions durable await
 * `flush()`; the tick-end flush (`schedule`) is owned by the queue, which routes its failure
 * to `onError` instead of dropping it.
 */
import { Batch } from './batch.ts';

/**
 * How long a tick-end commit may wait for built-in nodes still evaluating (see `holdBack`): at
 * least `HOLD_MIN_MS`, and as long as a commit has recently taken (its round trip, a moving
 * average) up to `HOLD_CAP_MS`. A five-node run of transforms takes 2 sandbox round trips in a
 * row of 50–100 µs on an idle machine; one commit costs the database a fixed part whatever it
 * carries. On a busy machine both grow together: with a fixed 1 ms, four workers sharing two
 * cores with their database committed 1.3 times per five-node run (the hold ran out while the
 * sandbox waited for a core), with the commit's own duration as the limit 0.9 times (and the
 * database's CPU per run 2.37 → 2.04 ms on one A/B pair). Waiting as long as a commit takes at
 * most doubles the latency of a run's built-in work, and only while more of it is in flight.
 */
export const HOLD_MIN_MS = 1;
export const HOLD_CAP_MS = 4;

export class CommitQueue {
  /** The open batch: what has been decided and not yet handed to a commit. */
  batch = new Batch();
  private inflight: Promise<void> | undefined;
  private scheduled = false;
  /** Batches handed to `commit` (for metrics and tests). */
  commits = 0;

  /** When the tick-end flush first held back for the batch now open (ms, performance.now). */
  private heldSince: number | undefined;
  private holdTimer: NodeJS.Timeout | undefined;
  /** A tick-end flush is waiting for the commit in flight. */
  private behind = false;
  /** How long commits have taken lately (ms, a moving average; undefined before the first). */
  private commitMs: number | undefined;

  constructor(
    /** Commits a closed batch, then announces it and carries out its actions. */
    private readonly commit: (b: Batch) => Promise<void>,
    /** A scheduled flush failed (the error is not lost: it is logged and counted there). */
    private readonly onError: (err: unknown) => void,
    /**
     * True while work that will feed this batch within moments is running (built-in nodes
     * evaluating in the expression sandbox): the tick-end flush then waits for it, up to
     * `holdMaxMs`, so that a run of built-in nodes commits once rather than once per node.
     */
    private readonly holdBack: () => boolean = () => false,
    /** The least a hold may last (0: never hold). */
    private readonly holdMinMs = HOLD_MIN_MS,
    /** The most a hold may last, however long commits take (at most `holdMinMs`: a fixed hold). */
    private readonly holdCapMs = holdMinMs,
  ) {}

  /** The current limit of a hold: as long as a commit takes lately, within the bounds. */
  get holdMaxMs(): number {
    if (this.holdCapMs <= this.holdMinMs) return this.holdMinMs;
    return Math.min(this.holdCapMs, Math.max(this.holdMinMs, this.commitMs ?? 0));
  }

  /** True while a commit is in flight. */
  get busy(): boolean {
    return this.inflight !== undefined;
  }

  /** Flushes at the end of the current tick (coalesced). */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.tickEnd);
  }

  private readonly tickEnd = (): void => {
    this.scheduled = false;
    this.flushOrHold();
  };

  /**
   * The tick-end flush: behind a commit in flight it waits for that commit, then decides (what
   * the commit's own actions started, such as built-in nodes, may be worth waiting for).
   */
  private flushOrHold(): void {
    if (this.inflight !== undefined) {
      if (!this.behind) {
        this.behind = true;
        void this.inflight.then(() => {
          this.behind = false;
          this.flushOrHold();
        });
      }
      return;
    }
    if (this.holdMinMs > 0 && !this.batch.awaited && !this.batch.empty && this.holdBack()) {
      const now = performance.now();
      this.heldSince ??= now;
      const left = this.heldSince + this.holdMaxMs - now;
      if (left > 0) {
        // The work held for calls `schedule` again when it feeds the batch; the timer flushes
        // regardless once the hold is over.
        this.holdTimer ??= setTimeout(this.holdOver, left);
        return;
      }
    }
    this.flush().catch(this.onError);
  }

  private readonly holdOver = (): void => {
    this.holdTimer = undefined;
    this.flush().catch(this.onError);
  };

  /**
   * Resolves once everything in the open batch at the time of the call has committed (and been
   * announced). Waits for a commit in flight first: commits never overlap.
   */
  async flush(): Promise<void> {
    while (this.inflight) await this.inflight;
    const b = this.batch;
    if (this.holdTimer !== undefined) {
      clearTimeout(this.holdTimer);
      this.holdTimer = undefined;
    }
    this.heldSince = undefined;
    if (b.empty) return;
    this.batch = new Batch();
    this.commits++;
    const started = performance.now();
    const p = this.commit(b);
    const settled = (): void => {
      this.inflight = undefined;
      const ms = performance.now() - started;
      this.commitMs = this.commitMs === undefined ? ms : this.commitMs * 0.8 + ms * 0.2;
    };
    this.inflight = p.then(settled, settled);
    return p;
  }

  /** Drops what the open batch holds for these runs (runs the worker no longer holds). */
  forget(runIds: ReadonlySet<string>): void {
    this.batch.forget(runIds);
  }
}
