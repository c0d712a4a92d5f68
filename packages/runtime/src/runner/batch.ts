/**
 * The write-behind batch: every transition decided in one tick lands here and commits in a
 * single transaction (group commit). Patches to the same row merge, so a node that is queued
 * and started in the same tick costs one UPDATE.
 */
import type { RunEvent } from '@trellis/core';
import type { WriteOp } from '@trellis/store';
import type { HotRun } from './hot-run.ts';

/** An action to take once the batch has committed, on behalf of a run. */
export interface PostCommit {
  run: HotRun;
  act: () => void;
}

export class Batch {
  ops: WriteOp[] = [];
  events: RunEvent[] = [];
  after: PostCommit[] = [];
  /** Runs this batch changed (checked for eviction once the batch is carried out). */
  touched = new Set<HotRun>();
  private readonly rows = new Map<string, { set: Record<string, unknown> }>();
  private readonly attempts = new Map<string, Record<string, unknown>>();
  /** Pending updates of attempts inserted by an earlier batch (two finishes of one attempt merge). */
  private readonly attemptUpdates = new Map<string, { set: Record<string, unknown> }>();

  get empty(): boolean {
    return this.ops.length === 0 && this.after.length === 0;
  }

  /** Merges a patch into the pending UPDATE of the same row, or queues a new one. */
  patch(op: Extract<WriteOp, { op: 'node' | 'run' }>): void {
    const key = op.op === 'node' ? `n|${op.runId}|${op.nodeId}` : `r|${op.runId}`;
    const prev = this.rows.get(key);
    if (prev) Object.assign(prev.set, op.set);
    else {
      const copy = { ...op, set: { ...op.set } } as typeof op;
      this.rows.set(key, copy as { set: Record<string, unknown> });
      this.ops.push(copy);
    }
  }

  later(run: HotRun, act: () => void): void {
    this.after.push({ run, act });
  }

  push(op: WriteOp): void {
    if (op.op === 'attempt.insert') {
      // Keep a handle so that a finish in the same tick folds into the insert.
      const row = { ...op.row };
      this.attempts.set(`${row.run_id}|${row.node_id}|${row.attempt}`, row);
      this.ops.push({ op: 'attempt.insert', row });
      return;
    }
    if (op.op === 'attempt.update') {
      const key = `${op.runId}|${op.nodeId}|${op.attempt}`;
      const row = this.attempts.get(key);
      if (row) {
        Object.assign(row, op.set);
        return;
      }
      const prev = this.attemptUpdates.get(key);
      if (prev) {
        Object.assign(prev.set, op.set);
        return;
      }
      const copy = { ...op, set: { ...op.set } };
      this.attemptUpdates.set(key, copy as { set: Record<string, unknown> });
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
    this.ops = this.ops.filter((op) => !runIds.has(opRunId(op)));
    this.events = this.events.filter((e) => !runIds.has(e.runId));
    this.after = this.after.filter((a) => !runIds.has(a.run.id));
    this.touched = new Set([...this.touched].filter((r) => !runIds.has(r.id)));
    for (const m of [this.rows, this.attempts, this.attemptUpdates])
      for (const key of m.keys()) if (runIds.has(keyRunId(key))) m.delete(key);
  }

  /** The distinct runs this batch writes to. */
  runIds(): Set<string> {
    const ids = new Set<string>();
    for (const op of this.ops) ids.add(opRunId(op));
    for (const r of this.touched) ids.add(r.id);
    return ids;
  }
}

export function opRunId(op: WriteOp): string {
  return op.op === 'attempt.insert' || op.op === 'event' ? op.row.run_id : op.runId;
}

/** Row keys are `n|run|node`, `r|run` or `run|node|attempt`. */
function keyRunId(key: string): string {
  const parts = key.split('|');
  return (parts[0] === 'n' || parts[0] === 'r' ? parts[1] : parts[0]) ?? '';
}
