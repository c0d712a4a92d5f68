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
      const row = this.attempts.get(`${op.runId}|${op.nodeId}|${op.attempt}`);
      if (row) {
        Object.assign(row, op.set);
        return;
      }
    }
    this.ops.push(op);
  }
}
