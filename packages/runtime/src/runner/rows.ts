/**
 * From the scheduler's patches (domain values, epoch milliseconds) to row columns (JSON text,
 * ISO-8601 times): only the columns a patch names are written.
 */
import type { NodePatch, RunPatch } from '@trellis/core';
import type { NodeRunsTable, RunsTable } from '@trellis/store';

export const iso = (ms: number): string => new Date(ms).toISOString();
export const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));

export function nodeRowSet(p: NodePatch): Partial<NodeRunsTable> {
  const set: Partial<NodeRunsTable> = {};
  if (p.status !== undefined) set.status = p.status;
  if (p.attempt !== undefined) set.attempt = p.attempt;
  if ('output' in p) set.output = json(p.output);
  if ('error' in p) set.error = json(p.error);
  if (p.costUsd !== undefined) set.cost_usd = p.costUsd;
  if (p.startedAt !== undefined) set.started_at = iso(p.startedAt);
  if (p.finishedAt !== undefined) set.finished_at = iso(p.finishedAt);
  if ('nextAttemptAt' in p) set.next_attempt_at = p.nextAttemptAt == null ? null : iso(p.nextAttemptAt);
  if ('prompt' in p) set.prompt = p.prompt ?? null;
  if ('waitUntil' in p) set.wait_until = p.waitUntil == null ? null : iso(p.waitUntil);
  if ('taken' in p) set.taken = json(p.taken);
  if (p.clearDecision) set.decision = null;
  if (p.recoveries !== undefined) set.recoveries = p.recoveries;
  if (p.interrupted !== undefined) set.interrupted = p.interrupted ? 1 : 0;
  if (p.itemCount !== undefined) set.item_count = p.itemCount;
  return set;
}

export function runRowSet(p: RunPatch): Partial<RunsTable> {
  const set: Partial<RunsTable> = {};
  if (p.status !== undefined) set.status = p.status;
  if ('output' in p) set.output = json(p.output);
  if ('error' in p) set.error = json(p.error);
  if (p.costUsd !== undefined) set.cost_usd = p.costUsd;
  if (p.startedAt !== undefined) set.started_at = iso(p.startedAt);
  if (p.finishedAt !== undefined) set.finished_at = iso(p.finishedAt);
  return set;
}
