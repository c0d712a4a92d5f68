/**
 * The live run view's model, folded from the run's events (SPEC §5) by one pure reducer.
 * Events at or below the last applied seq are ignored, so replays after a reconnect can never
 * count twice. Timings are kept as spans for the timeline: each attempt, each backoff wait
 * (between a failed attempt and the next), and each gate wait (until the decision).
 */
import type { ErrorInfo, NodeStatus, RunEvent, RunStatus } from '@trellis/core';

export type AttemptState = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'waiting';

export interface AttemptSpan {
  attempt: number;
  start: number;
  end: number | undefined;
  state: AttemptState;
  error?: ErrorInfo;
}

export interface WaitSpan {
  kind: 'backoff' | 'gate';
  start: number;
  /** Set once the wait is over. */
  end: number | undefined;
  /** For a backoff: when the next attempt is due. */
  due?: number;
  /** For a gate: the decision. */
  decision?: 'approved' | 'rejected';
  by?: string;
}

export interface NodeView {
  status: NodeStatus;
  attempts: AttemptSpan[];
  waits: WaitSpan[];
  prompt?: string;
  output?: unknown;
  error?: ErrorInfo;
  costUsd: number;
  /** A retry reused this node from that run instead of executing it. */
  reusedFrom?: string;
  costSavedUsd?: number;
  /** A map node: its items as they move (from the events carrying `item`). */
  items?: ItemsView;
}

/** A map node's items: each item's status and the counts, updated in place (items can be 10,000s). */
export interface ItemsView {
  status: Map<number, NodeStatus>;
  running: number;
  done: number;
  failed: number;
  waiting: number;
  cancelled: number;
}

const ITEM_STATUS_OF: Partial<Record<RunEvent['type'], NodeStatus>> = {
  'node.started': 'running',
  'node.retrying': 'retrying',
  'node.waiting': 'waiting',
  'node.succeeded': 'succeeded',
  'node.failed': 'failed',
  'node.cancelled': 'cancelled',
  'gate.approved': 'running',
  'gate.rejected': 'running',
};

function countOf(items: ItemsView, s: NodeStatus | undefined, d: number): void {
  if (s === 'running' || s === 'retrying') items.running += d;
  else if (s === 'succeeded') items.done += d;
  else if (s === 'failed') items.failed += d;
  else if (s === 'waiting') items.waiting += d;
  else if (s === 'cancelled') items.cancelled += d;
}

export interface RunView {
  status: RunStatus;
  lastSeq: number;
  events: RunEvent[];
  nodes: Record<string, NodeView>;
  startedAt: number | undefined;
  finishedAt: number | undefined;
  costUsd: number;
  /** A retry: what reusing earlier results saved, and the run retried. */
  costSavedUsd: number;
  retryOf?: string;
  output?: unknown;
  error?: ErrorInfo;
}

export function initialRunView(nodeIds: readonly string[] = []): RunView {
  const nodes: Record<string, NodeView> = {};
  for (const id of nodeIds) nodes[id] = emptyNode();
  return {
    status: 'queued',
    lastSeq: 0,
    events: [],
    nodes,
    startedAt: undefined,
    finishedAt: undefined,
    costUsd: 0,
    costSavedUsd: 0,
  };
}

function emptyNode(): NodeView {
  return { status: 'pending', attempts: [], waits: [], costUsd: 0 };
}

function closeOpen(n: NodeView, at: number, state: AttemptState): NodeView {
  return {
    ...n,
    attempts: n.attempts.map((a) => (a.end === undefined ? { ...a, end: at, state } : a)),
    waits: n.waits.map((w) => (w.end === undefined ? { ...w, end: at } : w)),
  };
}

function finishAttempt(n: NodeView, attempt: number, at: number, state: AttemptState, error?: ErrorInfo): NodeView {
  let found = false;
  const attempts = n.attempts.map((a) => {
    if (a.attempt !== attempt) return a;
    found = true;
    const next: AttemptSpan = { ...a, end: a.end ?? at, state };
    if (error) next.error = error;
    return next;
  });
  if (!found) {
    const span: AttemptSpan = { attempt, start: at, end: at, state };
    if (error) span.error = error;
    attempts.push(span);
  }
  return { ...n, attempts };
}

/** Applies a batch of events in seq order; returns the same object when nothing applied. */
export function applyEvents(view: RunView, events: readonly RunEvent[]): RunView {
  const fresh = events.filter((e) => e.seq > view.lastSeq).sort((a, b) => a.seq - b.seq);
  if (fresh.length === 0) return view;
  // One copy of the log per batch (a replay of a big run is thousands of events at once).
  const log = [...view.events];
  const nodes = { ...view.nodes };
  let v: RunView = { ...view, nodes };
  // A map node's item statuses are copied once per batch and then written in place: the previous
  // view is never mutated (React may apply the same update to a state more than once).
  const ownItems = new Set<string>();
  for (const e of fresh) v = fold(v, e, log, nodes, ownItems);
  return { ...v, events: log, nodes };
}

export function applyEvent(view: RunView, e: RunEvent): RunView {
  return applyEvents(view, [e]);
}

/** Folds one event; `log` and `nodes` are the batch's own copies and are written in place. */
function fold(view: RunView, e: RunEvent, log: RunEvent[], nodes: Record<string, NodeView>, ownItems: Set<string>): RunView {
  if (e.seq <= view.lastSeq) return view;
  log.push(e);
  const at = Date.parse(e.at);
  const v: RunView = { ...view, lastSeq: e.seq };
  const node = (id: string | undefined) => (id ? (nodes[id] ?? emptyNode()) : emptyNode());
  const setNode = (id: string | undefined, n: NodeView) => {
    if (id) nodes[id] = n;
  };
  if (e.item !== undefined && e.nodeId !== undefined) {
    // An item of a map node: the node's own status does not change.
    const next = ITEM_STATUS_OF[e.type];
    if (next) {
      const n = node(e.nodeId);
      let items: ItemsView;
      if (ownItems.has(e.nodeId) && n.items) items = n.items;
      else {
        const old = n.items;
        items = old
          ? { ...old, status: new Map(old.status) }
          : { status: new Map(), running: 0, done: 0, failed: 0, waiting: 0, cancelled: 0 };
        ownItems.add(e.nodeId);
      }
      countOf(items, items.status.get(e.item), -1);
      items.status.set(e.item, next);
      countOf(items, next, 1);
      setNode(e.nodeId, { ...n, items });
    }
    return v;
  }
  switch (e.type) {
    case 'run.queued':
      v.status = 'queued';
      if (e.data.retryOf !== undefined) v.retryOf = e.data.retryOf;
      break;
    case 'node.reused':
      if ((e as { item?: number }).item !== undefined) break; // a map item: the map node says it
      setNode(e.nodeId, {
        ...node(e.nodeId),
        status: 'succeeded',
        output: e.data.output,
        reusedFrom: e.data.reusedFrom,
        costSavedUsd: e.data.costSavedUsd,
      });
      v.costSavedUsd += e.data.costSavedUsd;
      break;
    case 'run.started':
      v.status = 'running';
      v.startedAt ??= at;
      break;
    case 'run.waiting':
      v.status = 'waiting';
      break;
    case 'run.cost':
      v.costUsd = e.data.totalUsd;
      break;
    case 'run.succeeded':
      v.status = 'succeeded';
      v.output = e.data.output;
      v.finishedAt = at;
      break;
    case 'run.failed':
      v.status = 'failed';
      v.error = e.data.error;
      v.finishedAt = at;
      break;
    case 'run.cancelled':
      v.status = 'cancelled';
      v.finishedAt = at;
      break;
    case 'node.queued':
      setNode(e.nodeId, { ...node(e.nodeId), status: 'queued' });
      break;
    case 'node.started': {
      const n = node(e.nodeId);
      const waits = n.waits.map((w) => (w.kind === 'backoff' && w.end === undefined ? { ...w, end: at } : w));
      setNode(e.nodeId, {
        ...n,
        status: 'running',
        waits,
        attempts: [...n.attempts, { attempt: e.data.attempt, start: at, end: undefined, state: 'running' }],
      });
      if (v.status === 'queued' || v.status === 'waiting') v.status = 'running';
      v.startedAt ??= at;
      break;
    }
    case 'node.retrying': {
      const n = finishAttempt(node(e.nodeId), e.data.attempt, at, 'failed', e.data.error);
      setNode(e.nodeId, {
        ...n,
        status: 'retrying',
        waits: [...n.waits, { kind: 'backoff', start: at, end: undefined, due: at + e.data.delayMs }],
      });
      break;
    }
    case 'node.waiting': {
      const n = node(e.nodeId);
      // The attempt goes on while it waits for a decision (run/durations.ts): it ends with the
      // event after the decision, as the run record's attempt timestamps do.
      const attempts = n.attempts.map((a) => (a.end === undefined ? { ...a, state: 'waiting' as const } : a));
      setNode(e.nodeId, {
        ...n,
        status: 'waiting',
        prompt: e.data.prompt,
        attempts,
        waits: [...n.waits, { kind: 'gate', start: at, end: undefined }],
      });
      break;
    }
    case 'gate.approved':
    case 'gate.rejected': {
      const n = node(e.nodeId);
      const decision = e.type === 'gate.approved' ? 'approved' : 'rejected';
      const waits = n.waits.map((w) =>
        w.kind === 'gate' && w.end === undefined ? { ...w, end: at, decision, by: e.data.by } : w,
      ) as WaitSpan[];
      setNode(e.nodeId, { ...n, waits, status: n.status === 'waiting' ? 'running' : n.status });
      break;
    }
    case 'node.succeeded': {
      const n = finishAttempt(node(e.nodeId), e.data.attempt, at, 'succeeded');
      const cost = e.data.cost?.costUsd ?? 0;
      setNode(e.nodeId, {
        ...closeOpen(n, at, 'succeeded'),
        status: 'succeeded',
        output: e.data.output,
        costUsd: n.costUsd + cost,
      });
      break;
    }
    case 'node.failed': {
      const n = finishAttempt(node(e.nodeId), e.data.attempt, at, 'failed', e.data.error);
      setNode(e.nodeId, { ...closeOpen(n, at, 'failed'), status: 'failed', error: e.data.error });
      break;
    }
    case 'node.skipped':
      setNode(e.nodeId, { ...node(e.nodeId), status: 'skipped' });
      break;
    case 'node.cancelled':
      setNode(e.nodeId, { ...closeOpen(node(e.nodeId), at, 'cancelled'), status: 'cancelled' });
      break;
  }
  return v;
}
