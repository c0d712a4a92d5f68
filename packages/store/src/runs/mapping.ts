/**
 * The one mapping between the runs area's domain values and its rows, shared by the SQLite and
 * PostgreSQL run stores. Outside the store nobody encodes JSON columns, formats times or casts a
 * status read from a row:
 *
 * - writes: the scheduler's patches (`NodePatch`, `RunPatch`: domain values, epoch
 *   milliseconds), events and attempt transitions arrive as `RunWrite`s and are lowered here to
 *   row operations (`RowOp`: JSON text, ISO-8601 times, only the columns a patch names);
 * - reads: a run's rows become a `LoadedRun` of domain values (statuses checked against their
 *   closed unions), from which the scheduler's state is rebuilt (`toPersistedRunState`).
 *
 * The API record (`RunRecord`) is mapped in record.ts.
 */
import {
  ATTEMPT_STATUSES,
  type AttemptStatus,
  type CompiledWorkflow,
  type CostReport,
  type ErrorInfo,
  type GateDecision,
  NODE_STATUSES,
  type NodePatch,
  type NodeStatus,
  type PersistedItemState,
  type PersistedNodeState,
  type PersistedRunState,
  RUN_STATUSES,
  type RunEvent,
  type RunPatch,
  type RunStatus,
} from '@trellis/core';
import type { AttemptsTable, EventsTable, NodeRetryInfo, NodeRunsTable, RunsTable } from '../tables.ts';
import { itemKey, parseItemKey } from './record.ts';
import type { NewRun, PastNode, PastRun, RetryNode } from './run-store.ts';

// ── encodings ────────────────────────────────────────────────────────────────────────────────

/**
 * A time as stored: ISO-8601 text (sorts as text, compares across dialects). The last conversion
 * is remembered: a batch of writes (a pass of thousands of schedule ticks, a commit of many node
 * transitions) mostly formats the same millisecond again and again.
 */
export const iso = (ms: number): string => {
  if (ms !== lastIsoMs) {
    lastIsoMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
};
let lastIsoMs = Number.NaN;
let lastIso = '';
/** A JSON column: `undefined` is stored as null. */
export const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));
const parseJson = (text: string | null | undefined): unknown => (text == null ? null : JSON.parse(text));
const parseTime = (text: string | null | undefined): number | null => (text == null ? null : Date.parse(text));

const RUN_STATUS_SET: ReadonlySet<string> = new Set(RUN_STATUSES);
const NODE_STATUS_SET: ReadonlySet<string> = new Set(NODE_STATUSES);
const ATTEMPT_STATUS_SET: ReadonlySet<string> = new Set(ATTEMPT_STATUSES);

/** A run status read from a row; a value outside the union is a corrupt row, said loudly. */
export function runStatusOf(text: string): RunStatus {
  if (!RUN_STATUS_SET.has(text)) throw new Error(`stored run status '${text}' is not one of ${RUN_STATUSES.join(', ')}`);
  return text as RunStatus;
}
export function nodeStatusOf(text: string): NodeStatus {
  if (!NODE_STATUS_SET.has(text)) throw new Error(`stored node status '${text}' is not one of ${NODE_STATUSES.join(', ')}`);
  return text as NodeStatus;
}
export function attemptStatusOf(text: string): AttemptStatus {
  if (!ATTEMPT_STATUS_SET.has(text))
    throw new Error(`stored attempt status '${text}' is not one of ${ATTEMPT_STATUSES.join(', ')}`);
  return text as AttemptStatus;
}

// ── columns ──────────────────────────────────────────────────────────────────────────────────

export const RUN_COLUMNS = [
  'id',
  'workflow_id',
  'version',
  'status',
  'input',
  'output',
  'error',
  'cost_usd',
  'created_by',
  'created_at',
  'started_at',
  'finished_at',
  'deadline_at',
  'last_seq',
  'worker_id',
  'lease_expires_at',
  'cancel_requested',
  'parent_run_id',
  'parent_node_id',
  'depth',
  'trace_parent',
] as const satisfies readonly (keyof RunsTable)[];
export const EVENT_COLUMNS = ['run_id', 'seq', 'type', 'node_id', 'at', 'data'] as const satisfies readonly (keyof EventsTable)[];
/** The columns of an inserted attempt row (`lease_lost` is set by an update: it is rare). */
export const ATTEMPT_COLUMNS = [
  'run_id',
  'node_id',
  'attempt',
  'status',
  'started_at',
  'finished_at',
  'error',
  'cost_usd',
  'usage',
  'worker_id',
  'lease_expires_at',
] as const satisfies readonly (keyof AttemptsTable)[];
/** The columns of a new run's row: a retry's link included. */
export const NEW_RUN_COLUMNS = [...RUN_COLUMNS, 'retry_of', 'retry_info'] as const satisfies readonly (keyof RunsTable)[];
/** The node columns a retry writes. */
export const RETRY_NODE_COLUMNS = [
  'run_id',
  'node_id',
  'status',
  'attempt',
  'input',
  'output',
  'error',
  'cost_usd',
  'started_at',
  'finished_at',
  'taken',
  'reused_from',
  'retry_info',
  'item_count',
] as const satisfies readonly (keyof NodeRunsTable)[];

// ── writes ───────────────────────────────────────────────────────────────────────────────────

/** A node's (or map item's) patch as the runner writes it: the scheduler's, plus what the shell learns. */
export interface NodeWrite extends NodePatch {
  /** The node's resolved input (recorded when its attempt ends). */
  input?: unknown;
  /** A reference to remote work (an A2A task, a child run), stored before waiting on it. */
  remoteRef?: unknown;
}

/** A run's patch as the runner writes it. */
export interface RunWrite extends RunPatch {
  /** The run's lease is given back (its worker is done with it). */
  releaseLease?: true;
}

/** The end of an attempt. */
export interface AttemptEnd {
  status: Exclude<AttemptStatus, 'running'>;
  at: number;
  error?: ErrorInfo | undefined;
  cost?: CostReport | undefined;
  /** The attempt ended because its worker stopped (lease expired). */
  leaseLost?: boolean | undefined;
}

/**
 * What the runner commits: domain values only. `nodeId` is a node's id; `item` names one item
 * of a map node (its rows are the store's business).
 */
export type RunWriteOp =
  | { op: 'node.patch'; runId: string; nodeId: string; item?: number | undefined; patch: NodeWrite }
  | { op: 'run.patch'; runId: string; patch: RunWrite }
  | { op: 'run.event'; event: RunEvent }
  /** An attempt starts (its row is inserted, running); `end` is folded in when it ended in the same batch. */
  | {
      op: 'attempt.start';
      runId: string;
      nodeId: string;
      item?: number | undefined;
      attempt: number;
      at: number;
      workerId: string | null;
      end?: AttemptEnd;
    }
  | { op: 'attempt.end'; runId: string; nodeId: string; item?: number | undefined; attempt: number; end: AttemptEnd };

/** The row key of a node, or of one item of a map node. */
export const rowKey = (nodeId: string, item: number | undefined): string => (item === undefined ? nodeId : itemKey(nodeId, item));

export function nodeRowSet(p: NodeWrite): Partial<NodeRunsTable> {
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
  if ('input' in p) set.input = json(p.input);
  if ('remoteRef' in p) set.remote_ref = json(p.remoteRef);
  return set;
}

export function runRowSet(p: RunWrite): Partial<RunsTable> {
  const set: Partial<RunsTable> = {};
  if (p.status !== undefined) set.status = p.status;
  if ('output' in p) set.output = json(p.output);
  if ('error' in p) set.error = json(p.error);
  if (p.costUsd !== undefined) set.cost_usd = p.costUsd;
  if (p.startedAt !== undefined) set.started_at = iso(p.startedAt);
  if (p.finishedAt !== undefined) set.finished_at = iso(p.finishedAt);
  if (p.releaseLease) {
    set.worker_id = null;
    set.lease_expires_at = null;
  }
  return set;
}

/** The columns an attempt's end sets (lease loss apart: see `lowerWrites`). */
export function attemptEndSet(end: AttemptEnd): Partial<AttemptsTable> {
  const set: Partial<AttemptsTable> = { status: end.status, finished_at: iso(end.at) };
  if (end.error) set.error = JSON.stringify(end.error);
  if (end.cost?.costUsd !== undefined) set.cost_usd = end.cost.costUsd;
  if (end.cost?.usage !== undefined) set.usage = JSON.stringify(end.cost.usage);
  return set;
}

export function attemptRow(op: Extract<RunWriteOp, { op: 'attempt.start' }>): AttemptsTable {
  const row: AttemptsTable = {
    run_id: op.runId,
    node_id: rowKey(op.nodeId, op.item),
    attempt: op.attempt,
    status: 'running',
    started_at: iso(op.at),
    finished_at: null,
    error: null,
    cost_usd: 0,
    usage: null,
    worker_id: op.workerId,
    lease_expires_at: null,
  };
  return op.end ? Object.assign(row, attemptEndSet(op.end)) : row;
}

export function eventRow(e: RunEvent): EventsTable {
  return {
    run_id: e.runId,
    seq: e.seq,
    type: e.type,
    node_id: e.nodeId === undefined ? null : rowKey(e.nodeId, e.item),
    at: e.at,
    data: JSON.stringify(e.data),
  };
}

// ── run creation ─────────────────────────────────────────────────────────────────────────────

/** A new run's row (queued; its last seq is its last first event's). */
export function newRunRow(run: NewRun): RunsTable {
  const last = run.events[run.events.length - 1];
  return {
    id: run.id,
    workflow_id: run.workflowId,
    version: run.version,
    status: 'queued',
    input: JSON.stringify(run.input ?? null),
    output: null,
    error: null,
    cost_usd: 0,
    created_by: run.createdBy,
    created_at: iso(run.createdAt),
    started_at: null,
    finished_at: null,
    deadline_at: run.deadlineAt === null ? null : iso(run.deadlineAt),
    last_seq: last === undefined ? 0 : last.seq,
    worker_id: run.claim?.workerId ?? null,
    lease_expires_at: run.claim?.leaseExpiresAt == null ? null : iso(run.claim.leaseExpiresAt),
    cancel_requested: 0,
    retry_of: run.retry?.retryOf ?? null,
    retry_info: run.retry ? JSON.stringify(run.retry.info) : null,
    parent_run_id: run.parent?.runId ?? null,
    parent_node_id: run.parent?.nodeKey ?? null,
    depth: run.parent?.depth ?? 0,
    trace_parent: run.traceParent ?? null,
  };
}

/** A retry node's row (the columns of RETRY_NODE_COLUMNS). */
export function retryNodeRow(runId: string, n: RetryNode): NodeRunsTable {
  return {
    run_id: runId,
    node_id: rowKey(n.nodeId, n.item),
    status: n.status,
    attempt: n.attempt,
    input: json(n.input),
    output: json(n.output),
    error: n.error === null ? null : JSON.stringify(n.error),
    cost_usd: 0,
    started_at: n.startedAt === null ? null : iso(n.startedAt),
    finished_at: n.finishedAt === null ? null : iso(n.finishedAt),
    next_attempt_at: null,
    prompt: null,
    wait_until: null,
    remote_ref: null,
    decision: null,
    taken: n.taken === null ? null : JSON.stringify(n.taken),
    reused_from: n.reusedFrom,
    retry_info: n.retryInfo === null ? null : JSON.stringify(n.retryInfo),
    item_count: n.itemCount,
  };
}

/** The row keys of a retry's reused nodes and items (whose attempts are copied). */
export function reusedRowKeys(nodes: readonly RetryNode[]): string[] {
  const keys: string[] = [];
  for (const n of nodes) if (n.reusedFrom !== null) keys.push(rowKey(n.nodeId, n.item));
  return keys;
}

/**
 * Row operations: what a run store executes. The runner never builds them (it commits
 * `RunWriteOp`s); the stores' own tests and tools may.
 */
export type RowOp =
  | { op: 'run'; runId: string; set: Partial<Omit<RunsTable, 'id'>> }
  | { op: 'node'; runId: string; nodeId: string; set: Partial<Omit<NodeRunsTable, 'run_id' | 'node_id'>> }
  | { op: 'attempt.insert'; row: AttemptsTable }
  | {
      op: 'attempt.update';
      runId: string;
      nodeId: string;
      attempt: number;
      set: Partial<Omit<AttemptsTable, 'run_id' | 'node_id' | 'attempt'>>;
    }
  | { op: 'event'; row: EventsTable }
  /**
   * An item of a map node starts an attempt: its row (`node_id` = `<nodeId>[<index>]`) is
   * created on the first attempt, set back to running on later ones.
   */
  | { op: 'item.start'; runId: string; nodeId: string; attempt: number; at: string };

/** What a run store executes inside: domain writes, or row operations (the store's own tests and tools). */
export type StoreOp = RunWriteOp | RowOp;

/** Lowers one operation to the row operations that carry it out, in order, onto `out`. */
export function lowerWrite(op: StoreOp, out: RowOp[]): void {
  switch (op.op) {
    case 'node.patch':
      out.push({ op: 'node', runId: op.runId, nodeId: rowKey(op.nodeId, op.item), set: nodeRowSet(op.patch) });
      return;
    case 'run.patch':
      out.push({ op: 'run', runId: op.runId, set: runRowSet(op.patch) });
      return;
    case 'run.event':
      out.push({ op: 'event', row: eventRow(op.event) });
      return;
    case 'attempt.start': {
      const key = rowKey(op.nodeId, op.item);
      if (op.item !== undefined)
        out.push({ op: 'item.start', runId: op.runId, nodeId: key, attempt: op.attempt, at: iso(op.at) });
      out.push({ op: 'attempt.insert', row: attemptRow(op) });
      if (op.end?.leaseLost)
        out.push({ op: 'attempt.update', runId: op.runId, nodeId: key, attempt: op.attempt, set: { lease_lost: 1 } });
      return;
    }
    case 'attempt.end': {
      const set = attemptEndSet(op.end);
      if (op.end.leaseLost) set.lease_lost = 1;
      out.push({ op: 'attempt.update', runId: op.runId, nodeId: rowKey(op.nodeId, op.item), attempt: op.attempt, set });
      return;
    }
    case 'run':
    case 'node':
    case 'attempt.insert':
    case 'attempt.update':
    case 'event':
    case 'item.start':
      out.push(op);
      return;
    default: {
      const never: never = op;
      throw new Error(`unknown write op ${JSON.stringify(never)}`);
    }
  }
}

export function lowerWrites(ops: readonly StoreOp[]): RowOp[] {
  const out: RowOp[] = [];
  for (const op of ops) lowerWrite(op, out);
  return out;
}

/** The run an operation writes to. */
export function writeRunId(op: StoreOp): string {
  switch (op.op) {
    case 'run.event':
      return op.event.runId;
    case 'attempt.insert':
    case 'event':
      return op.row.run_id;
    default:
      return op.runId;
  }
}

// ── reads ────────────────────────────────────────────────────────────────────────────────────

/** A node (or map item) as stored, in domain values. */
export interface StoredNode {
  status: NodeStatus;
  attempt: number;
  output: unknown;
  error: ErrorInfo | null;
  costUsd: number;
  taken: number[] | null;
  /** Attempts of this node (item) that ended by lease loss. */
  leaseLosses: number;
  /** Retries: the prompt of the approval the node needs before its first attempt. */
  approval: string | null;
  recoveries: number;
  interrupted: boolean;
  itemCount: number | null;
  /** Due time of the next attempt (retrying), epoch ms. */
  nextAttemptAt: number | null;
  /** When a waiting gate times out, epoch ms. */
  waitUntil: number | null;
  /** A decision recorded while the node waited and not yet applied. */
  decision: GateDecision | null;
  /** A reference to remote work, or undefined when none was stored. */
  remoteRef: unknown;
}

/** A run as the runner reloads it after a restart or to wake a waiting run: domain values only. */
export interface LoadedRun {
  id: string;
  workflowId: string;
  version: number;
  status: RunStatus;
  input: unknown;
  costUsd: number;
  createdBy: string | null;
  depth: number;
  /** The run's deadline (settings.timeoutMs), epoch ms. */
  deadlineAt: number | null;
  cancelRequested: boolean;
  /** A child run: the parent's run id and the row key of the node that started it. */
  parent: { runId: string; nodeKey: string } | null;
  /** The W3C traceparent the run was started under, if any. */
  traceParent: string | undefined;
  /** By node id. */
  nodes: Map<string, StoredNode>;
  /** A map node's items that have rows, by map node id. */
  items: Map<string, { index: number; node: StoredNode }[]>;
  /** The newest event's seq (the log is the truth; runs.last_seq is not updated per event). */
  lastSeq: number;
}

function storedNode(r: NodeRunsTable, leaseLosses: number): StoredNode {
  return {
    status: nodeStatusOf(r.status),
    attempt: r.attempt,
    output: r.output ? JSON.parse(r.output) : undefined,
    error: parseJson(r.error) as ErrorInfo | null,
    costUsd: r.cost_usd,
    taken: parseJson(r.taken) as number[] | null,
    leaseLosses,
    // A retry's approval is pending only until the node's first attempt.
    approval: r.retry_info && r.attempt === 0 ? ((JSON.parse(r.retry_info) as NodeRetryInfo).approvalRequired ?? null) : null,
    recoveries: r.recoveries ?? 0,
    interrupted: r.interrupted === 1,
    itemCount: r.item_count ?? null,
    nextAttemptAt: parseTime(r.next_attempt_at),
    waitUntil: parseTime(r.wait_until),
    decision: parseJson(r.decision) as GateDecision | null,
    remoteRef: r.remote_ref ? JSON.parse(r.remote_ref) : undefined,
  };
}

/** Node rows mapped by node id, and map items' rows by their map node's id (in row order). */
function byNode<N>(
  rows: readonly NodeRunsTable[],
  map: (r: NodeRunsTable) => N,
): { nodes: Map<string, N>; items: Map<string, { index: number; node: N }[]> } {
  const nodes = new Map<string, N>();
  const items = new Map<string, { index: number; node: N }[]>();
  for (const r of rows) {
    const node = map(r);
    const k = parseItemKey(r.node_id);
    if (!k) {
      nodes.set(r.node_id, node);
      continue;
    }
    let list = items.get(k.nodeId);
    if (!list) {
      list = [];
      items.set(k.nodeId, list);
    }
    list.push({ index: k.item, node });
  }
  return { nodes, items };
}

/** A run's rows (as both dialects read them) as a LoadedRun. */
export function loadedRunFrom(
  run: RunsTable,
  nodeRows: readonly NodeRunsTable[],
  lastSeq: number,
  leaseLosses: readonly { node_id: string; n: number | string }[],
): LoadedRun {
  const losses = new Map(leaseLosses.map((l) => [l.node_id, Number(l.n)]));
  const { nodes, items } = byNode(nodeRows, (r) => storedNode(r, losses.get(r.node_id) ?? 0));
  return {
    id: run.id,
    workflowId: run.workflow_id,
    version: run.version,
    status: runStatusOf(run.status),
    input: parseJson(run.input),
    costUsd: run.cost_usd,
    createdBy: run.created_by,
    depth: run.depth ?? 0,
    deadlineAt: parseTime(run.deadline_at),
    cancelRequested: Boolean(run.cancel_requested),
    parent: run.parent_run_id && run.parent_node_id ? { runId: run.parent_run_id, nodeKey: run.parent_node_id } : null,
    traceParent: run.trace_parent ?? undefined,
    nodes,
    items,
    lastSeq,
  };
}

function pastNode(r: NodeRunsTable): PastNode {
  return {
    status: nodeStatusOf(r.status),
    attempt: r.attempt,
    input: r.input ? JSON.parse(r.input) : undefined,
    output: r.output ? JSON.parse(r.output) : undefined,
    error: parseJson(r.error) as ErrorInfo | null,
    costUsd: r.cost_usd,
    startedAt: parseTime(r.started_at),
    finishedAt: parseTime(r.finished_at),
    taken: parseJson(r.taken) as number[] | null,
    reusedFrom: r.reused_from ?? null,
    retryInfo: r.retry_info ? (JSON.parse(r.retry_info) as NodeRetryInfo) : null,
    itemCount: r.item_count ?? null,
  };
}

/** A run's rows as a retry reads them. */
export function pastRunFrom(run: RunsTable, nodeRows: readonly NodeRunsTable[]): PastRun {
  const { nodes, items } = byNode(nodeRows, pastNode);
  return {
    id: run.id,
    workflowId: run.workflow_id,
    version: run.version,
    status: runStatusOf(run.status),
    input: parseJson(run.input),
    costUsd: run.cost_usd,
    nodes,
    items,
  };
}

/** The scheduler's persisted state of a loaded run, node by node in the compiled order. */
export function toPersistedRunState(loaded: LoadedRun, compiled: CompiledWorkflow): PersistedRunState {
  const nodes = compiled.nodes.map((cn): PersistedNodeState => {
    const r = loaded.nodes.get(cn.id);
    const items = loaded.items.get(cn.id);
    return {
      status: r?.status ?? 'pending',
      attempt: r?.attempt ?? 0,
      output: r?.output,
      error: r?.error ?? null,
      costUsd: r?.costUsd ?? 0,
      taken: r?.taken ?? null,
      leaseLosses: r?.leaseLosses ?? 0,
      approval: r?.approval ?? null,
      recoveries: r?.recoveries ?? 0,
      interrupted: r?.interrupted ?? false,
      itemCount: r?.itemCount ?? null,
      ...(items
        ? {
            items: items.map(
              ({ index, node }): PersistedItemState => ({
                index,
                status: node.status,
                attempt: node.attempt,
                output: node.output ?? null,
                error: node.error,
                leaseLosses: node.leaseLosses,
              }),
            ),
          }
        : {}),
    };
  });
  return { status: loaded.status, costUsd: loaded.costUsd, nodes };
}
