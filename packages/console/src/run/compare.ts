/**
 * Two runs of a workflow side by side: the run-level figures and, per node, status, duration and
 * cost in each run with their differences, and where the outputs differ (JSON paths). Pure: the
 * compare page renders what this returns from the two run records.
 */
import type { NodeRunRecord, RunRecord } from '@trellis/core';

export interface ValueDiff {
  /** JSON path, `$` for the whole value: `$.items[2].price`. */
  path: string;
  a: unknown;
  b: unknown;
}

export interface NodeComparison {
  nodeId: string;
  /** Absent from one run (e.g. the two runs are of different versions). */
  a: NodeRunRecord | undefined;
  b: NodeRunRecord | undefined;
  durationA: number | null;
  durationB: number | null;
  /** b − a, when both have a duration. */
  durationDelta: number | null;
  costDelta: number;
  statusChanged: boolean;
  /** Output differences (at most MAX_DIFFS); empty when equal. */
  outputDiffs: ValueDiff[];
  /** Whether anything differs: status, output, or presence. */
  changed: boolean;
}

export interface RunComparison {
  sameWorkflow: boolean;
  durationA: number | null;
  durationB: number | null;
  costDelta: number;
  nodes: NodeComparison[];
  outputDiffs: ValueDiff[];
  inputDiffs: ValueDiff[];
}

export const MAX_DIFFS = 50;

export function durationOf(r: { startedAt: string | null; finishedAt: string | null } | undefined): number | null {
  if (!r?.startedAt || !r.finishedAt) return null;
  const ms = Date.parse(r.finishedAt) - Date.parse(r.startedAt);
  return Number.isFinite(ms) ? Math.max(0, ms) : null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** The paths where two JSON values differ, depth-first, at most `max`. */
export function diffJson(a: unknown, b: unknown, max = MAX_DIFFS, path = '$', out: ValueDiff[] = []): ValueDiff[] {
  if (out.length >= max) return out;
  if (Object.is(a, b)) return out;
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n && out.length < max; i++) diffJson(a[i], b[i], max, childPath(path, i), out);
    return out;
  }
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      if (out.length >= max) break;
      diffJson(a[k], b[k], max, childPath(path, k), out);
    }
    return out;
  }
  out.push({ path, a, b });
  return out;
}

export function compareRuns(a: RunRecord, b: RunRecord): RunComparison {
  const ids = [...Object.keys(a.nodes)];
  for (const id of Object.keys(b.nodes)) if (!ids.includes(id)) ids.push(id);
  const nodes = ids.map((nodeId): NodeComparison => {
    const na = a.nodes[nodeId];
    const nb = b.nodes[nodeId];
    const durationA = durationOf(na);
    const durationB = durationOf(nb);
    const outputDiffs = na && nb ? diffJson(na.output, nb.output) : [];
    const statusChanged = na?.status !== nb?.status;
    return {
      nodeId,
      a: na,
      b: nb,
      durationA,
      durationB,
      durationDelta: durationA !== null && durationB !== null ? durationB - durationA : null,
      costDelta: (nb?.costUsd ?? 0) - (na?.costUsd ?? 0),
      statusChanged,
      outputDiffs,
      changed: !na || !nb || statusChanged || outputDiffs.length > 0,
    };
  });
  return {
    sameWorkflow: a.workflowId === b.workflowId,
    durationA: durationOf(a),
    durationB: durationOf(b),
    costDelta: b.costUsd - a.costUsd,
    nodes,
    outputDiffs: diffJson(a.output, b.output),
    inputDiffs: diffJson(a.input, b.input),
  };
}
