/**
 * The write-behind batch: every transition decided in one tick lands here and commits in a
 * single transaction (group commit). Everything in it is a domain value (the scheduler's
 * patches, events, attempt transitions); the store maps them to rows. Patches to the same row
 * merge, so a node that is queued and started in the same tick costs one UPDATE.
 */
import type { RunEvent } from '@trellis/core';
import { type RunWriteOp, writeRunId } from '@trellis/store';
import type { HotRun } from './hot-run.ts';

/** An action to take once the batch has committed, on behalf of a run. */
export interface PostCommit {
  run: HotRun;
  act: () => void;
}

export class Batch {
  ops: RunWriteOp[] = [];
  events: RunEvent[] = [];
  after: PostCommit[] = [];
  /**
   * Work waits for this batch to commit before it can begin (an attempt that reaches outside the
   * process: a tool, an agent, a child run): the batch is then never held back (CommitQueue).
   */
  awaited = false;
  /** Runs this batch changed (checked for eviction once the batch is carried out). */
  touched = new Set<HotRun>();
  /** Pending patches by row (`n|run|node|item` or `r|run`): a second patch of a row merges. */
  private readonly rows = new Map<string, NodePatchOp | RunPatchOp>();
  /** Attempts started in this batch: an end in the same tick folds into the start. */
  private readonly starts = new Map<string, AttemptStartOp>();
  /** Pending ends of attempts started by an earlier batch (two ends of one attempt merge). */
  private readonly ends = new Map<string, AttemptEndOp>();

  get empty(): boolean {
    return this.ops.length === 0 && this.after.length === 0;
  }

  /** Merges a patch into the pending patch of the same row, or queues a new one. */
  patch(op: NodePatchOp | RunPatchOp): void {
    const key = op.op === 'node.patch' ? `n|${op.runId}|${op.nodeId}|${op.item ?? ''}` : `r|${op.runId}`;
    const prev = this.rows.get(key);
    if (prev) Object.assign(prev.patch, op.patch);
    else {
      const copy = { ...op, patch: { ...op.patch } } as typeof op;
      this.rows.set(key, copy);
      this.ops.push(copy);
    }
  }

  later(run: HotRun, act: () => void): void {
    this.after.push({ run, act });
  }

  push(op: RunWriteOp): void {
    if (op.op === 'attempt.start') {
      // Keep a handle so that an end in the same tick folds into the start.
      const copy = { ...op };
      this.starts.set(attemptKey(op), copy);
      this.ops.push(copy);
      return;
    }
    if (op.op === 'attempt.end') {
      const key = attemptKey(op);
      const start = this.starts.get(key);
      if (start) {
        start.end = { ...start.end, ...op.end };
        return;
      }
      const prev = this.ends.get(key);
      if (prev) {
        Object.assign(prev.end, op.end);
        return;
      }
      const copy = { ...op, end: { ...op.end } };
      this.ends.set(key, copy);
      this.ops.push(copy);
      return;
    }
    this.ops.push(op);
  }

  /**
   * Removes everything this batch holds for `runIds` (runs this worker dropped: what it would
   * have written no longer follows from what committed, and would leave gaps in their logs).
   */
  forget(runIds: ReadonlySet<string>): void {
    if (runIds.size === 0) return;
    this.ops = this.ops.filter((op) => !runIds.has(writeRunId(op)));
    this.events = this.events.filter((e) => !runIds.has(e.runId));
    this.after = this.after.filter((a) => !runIds.has(a.run.id));
    this.touched = new Set([...this.touched].filter((r) => !runIds.has(r.id)));
    for (const m of [this.rows, this.starts, this.ends]) for (const [key, op] of m) if (runIds.has(writeRunId(op))) m.delete(key);
  }

  /** The distinct runs this batch writes to. */
  runIds(): Set<string> {
    const ids = new Set<string>();
    for (const op of this.ops) ids.add(writeRunId(op));
    for (const r of this.touched) ids.add(r.id);
    return ids;
  }
}

type NodePatchOp = Extract<RunWriteOp, { op: 'node.patch' }>;
type RunPatchOp = Extract<RunWriteOp, { op: 'run.patch' }>;
type AttemptStartOp = Extract<RunWriteOp, { op: 'attempt.start' }>;
type AttemptEndOp = Extract<RunWriteOp, { op: 'attempt.end' }>;

function attemptKey(op: { runId: string; nodeId: string; item?: number | undefined; attempt: number }): string {
  return `${op.runId}|${op.nodeId}|${op.item ?? ''}|${op.attempt}`;
}
