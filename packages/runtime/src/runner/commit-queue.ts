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

export class CommitQueue {
  /** The open batch: what has been decided and not yet handed to a commit. */
  batch = new Batch();
  private inflight: Promise<void> | undefined;
  private scheduled = false;
  /** Batches handed to `commit` (for metrics and tests). */
  commits = 0;

  constructor(
    /** Commits a closed batch, then announces it and carries out its actions. */
    private readonly commit: (b: Batch) => Promise<void>,
    /** A scheduled flush failed (the error is not lost: it is logged and counted there). */
    private readonly onError: (err: unknown) => void,
  ) {}

  /** True while a commit is in flight. */
  get busy(): boolean {
    return this.inflight !== undefined;
  }

  /** Flushes at the end of the current tick (coalesced). */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush().catch(this.onError);
    });
  }

  /**
   * Resolves once everything in the open batch at the time of the call has committed (and been
   * announced). Waits for a commit in flight first: commits never overlap.
   */
  async flush(): Promise<void> {
    while (this.inflight) await this.inflight;
    const b = this.batch;
    if (b.empty) return;
    this.batch = new Batch();
    this.commits++;
    const p = this.commit(b);
    this.inflight = p.then(
      () => {
        this.inflight = undefined;
      },
      () => {
        this.inflight = undefined;
      },
    );
    return p;
  }

  /** Drops what the open batch holds for these runs (runs the worker no longer holds). */
  forget(runIds: ReadonlySet<string>): void {
    this.batch.forget(runIds);
  }
}
