/** Maps run rows to the run record of SPEC §1 (the API shape). */
import type {
  AttemptRecord,
  ErrorInfo,
  ItemRunRecord,
  NodeRunRecord,
  NodeStatus,
  RunEvent,
  RunRecord,
  RunStatus,
  RunSummary,
} from '@trellis/core';
import type { AttemptsTable, EventsTable, NodeRetryInfo, NodeRunsTable, RunRetryInfo, RunsTable } from '../tables.ts';

export function parseJson(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

/** `<nodeId>[<index>]` — the key of a map item's rows — split; undefined for a plain node id. */
export function parseItemKey(key: string): { nodeId: string; item: number } | undefined {
  if (key.charCodeAt(key.length - 1) !== 93 /* ] */) return undefined;
  const open = key.lastIndexOf('[');
  if (open <= 0) return undefined;
  const item = Number(key.slice(open + 1, -1));
  return Number.isInteger(item) && item >= 0 ? { nodeId: key.slice(0, open), item } : undefined;
}

export function itemKey(nodeId: string, item: number): string {
  return `${nodeId}[${item}]`;
}

export function toRunSummary(r: RunsTable): RunSummary {
  const parent = r.parent_node_id ? (parseItemKey(r.parent_node_id) ?? { nodeId: r.parent_node_id, item: undefined }) : undefined;
  return {
    id: r.id,
    workflowId: r.workflow_id,
    version: r.version,
    status: r.status as RunStatus,
    error: parseJson(r.error) as ErrorInfo | null,
    costUsd: r.cost_usd,
    createdBy: r.created_by,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    lastSeq: r.last_seq,
    retryOf: r.retry_of ?? null,
    costSavedUsd: r.retry_info ? (JSON.parse(r.retry_info) as RunRetryInfo).costSavedUsd : 0,
    ...(r.parent_run_id ? { parentRunId: r.parent_run_id } : {}),
    ...(parent ? { parentNodeId: parent.nodeId } : {}),
    ...(parent?.item !== undefined ? { parentItem: parent.item } : {}),
  };
}

export function toRunRecord(r: RunsTable, nodes: NodeRunsTable[], attempts: AttemptsTable[], retries: string[] = []): RunRecord {
  const byNode = new Map<string, AttemptRecord[]>();
  for (const a of attempts) {
    const rec: AttemptRecord = {
      attempt: a.attempt,
      status: a.status as AttemptRecord['status'],
      startedAt: a.started_at,
      finishedAt: a.finished_at,
    };
    if (a.error !== null) rec.error = JSON.parse(a.error) as ErrorInfo;
    if (a.cost_usd > 0) rec.costUsd = a.cost_usd;
    if (a.usage !== null) rec.usage = JSON.parse(a.usage) as NonNullable<AttemptRecord['usage']>;
    if (a.reused_from) rec.reusedFrom = a.reused_from;
    const list = byNode.get(a.node_id);
    if (list) list.push(rec);
    else byNode.set(a.node_id, [rec]);
  }
  const out: Record<string, NodeRunRecord> = {};
  const items: { key: { nodeId: string; item: number }; row: NodeRunsTable }[] = [];
  for (const n of nodes) {
    const key = parseItemKey(n.node_id);
    if (key) {
      items.push({ key, row: n });
      continue;
    }
    const rec: NodeRunRecord = {
      status: n.status as NodeStatus,
      input: parseJson(n.input),
      output: parseJson(n.output),
      error: parseJson(n.error) as ErrorInfo | null,
      costUsd: n.cost_usd,
      startedAt: n.started_at,
      finishedAt: n.finished_at,
      attempts: (byNode.get(n.node_id) ?? []).sort((a, b) => a.attempt - b.attempt),
    };
    if (n.prompt !== null) rec.prompt = n.prompt;
    if (n.next_attempt_at !== null) rec.nextAttemptAt = n.next_attempt_at;
    if (n.reused_from) rec.reusedFrom = n.reused_from;
    if (n.retry_info) {
      const info = JSON.parse(n.retry_info) as NodeRetryInfo;
      if (info.costSavedUsd !== undefined) rec.costSavedUsd = info.costSavedUsd;
      if (info.notReused !== undefined) rec.notReused = info.notReused;
      if (info.reuseNote !== undefined) rec.reuseNote = info.reuseNote;
      if (info.approvalRequired !== undefined) rec.approvalRequired = info.approvalRequired;
    }
    if (n.item_count != null) {
      rec.itemCount = n.item_count;
      rec.items = {};
    }
    const child = childRunOf(n.remote_ref);
    if (child) rec.childRunId = child;
    out[n.node_id] = rec;
  }
  items.sort((a, b) => a.key.item - b.key.item);
  for (const { key, row: n } of items) {
    const parent = out[key.nodeId];
    if (!parent) continue;
    parent.items ??= {};
    const rec: ItemRunRecord = {
      status: n.status as NodeStatus,
      output: parseJson(n.output),
      error: parseJson(n.error) as ErrorInfo | null,
      costUsd: n.cost_usd,
      startedAt: n.started_at,
      finishedAt: n.finished_at,
      attempts: (byNode.get(n.node_id) ?? []).sort((a, b) => a.attempt - b.attempt),
    };
    if (n.prompt !== null) rec.prompt = n.prompt;
    if (n.next_attempt_at !== null) rec.nextAttemptAt = n.next_attempt_at;
    const child = childRunOf(n.remote_ref);
    if (child) rec.childRunId = child;
    parent.items[String(key.item)] = rec;
  }
  return { ...toRunSummary(r), input: parseJson(r.input), output: parseJson(r.output), retries, nodes: out };
}

/** The child run a `workflow` node (or item) started, from its remote reference `{ "childRunId" }`. */
function childRunOf(ref: string | null): string | undefined {
  if (ref === null || !ref.includes('childRunId')) return undefined;
  try {
    const v = JSON.parse(ref) as { childRunId?: unknown };
    return typeof v.childRunId === 'string' ? v.childRunId : undefined;
  } catch {
    return undefined;
  }
}

export function toRunEvent(e: EventsTable): RunEvent {
  const ev = { seq: e.seq, runId: e.run_id, type: e.type, at: e.at, data: JSON.parse(e.data) } as RunEvent;
  if (e.node_id !== null) {
    const key = parseItemKey(e.node_id);
    if (key) {
      ev.nodeId = key.nodeId;
      ev.item = key.item;
    } else ev.nodeId = e.node_id;
  }
  return ev;
}

/** Cursor for run history: the last row's (created_at, id), opaque to clients. */
export function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

export function decodeCursor(cursor: string): [string, string] | undefined {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string') return [v[0], v[1]];
  } catch {
    // fall through: an unreadable cursor is reported by the caller
  }
  return undefined;
}
