/**
 * The scheduler's rules for `map` nodes: items start as soon as a slot is free (bounded by the
 * map's `concurrency` and the run's `maxConcurrency`, never in waves), retry and time out one by
 * one, wait for people one by one, and resolve into one ordered output. Pure like `decide`: the
 * functions change the run state in place and push effects for the shell.
 *
 * A map node's life: it starts like any node (an attempt whose work is resolving `items`), the
 * shell feeds `map.expanded` with the item count, the items run, and once the result is decided
 * the scheduler emits `map.finish`; the shell evaluates the node's outgoing edges and feeds the
 * map's own `attempt.succeeded` / `attempt.failed`, which resolve it like any other node.
 */
import type { CompiledMap, CompiledNode, CompiledWorkflow } from '../compiled.ts';
import type { ErrorInfo } from '../errors.ts';
import type { CostReport } from '../events.ts';
import type { GateDecision } from '../executor.ts';
import { retryDelayPolicy, willRetryPolicy } from './retry.ts';
import type { Effect, ItemCode, MapState, RunState } from './types.ts';

/** Item status codes (a Uint8Array per map holds them). */
export const ITEM_STATUS = {
  pending: 0,
  running: 1,
  retrying: 2,
  waiting: 3,
  succeeded: 4,
  failed: 5,
  cancelled: 6,
} as const satisfies Record<string, ItemCode>;

/** The principal of the decision that resumes a `workflow` node when its child run moves on. */
export const CHILD_RUN_PRINCIPAL = 'trellis:child-run';

/** What the map rules need from the transition in progress. */
export interface MapHost {
  readonly run: RunState;
  readonly compiled: CompiledWorkflow;
  readonly now: number;
  readonly out: Effect[];
  hasCapacity(): boolean;
  /** Adds cost to the run; true when the budget is exceeded (the run has then failed). */
  addCost(costUsd: number): boolean;
}

export function createMapState(count: number): MapState {
  return {
    count,
    status: new Uint8Array(count),
    attempt: new Uint16Array(count),
    leaseLosses: new Map(),
    outputs: new Array(count).fill(null),
    errors: new Map(),
    next: 0,
    ready: [],
    active: 0,
    retrying: 0,
    waiting: 0,
    resolved: 0,
    finishing: false,
  };
}

function spec(h: MapHost, i: number): { cnode: CompiledNode; m: CompiledMap } {
  const cnode = h.compiled.nodes[i]!;
  return { cnode, m: cnode.map! };
}

/** The map node's items are known: record the count, start items, or finish at once when empty. */
export function expandMap(h: MapHost, i: number, attempt: number, count: number): void {
  const n = h.run.nodes[i]!;
  if (n.status !== 'running' || n.attempt !== attempt || n.map) return;
  h.run.running--; // the map itself holds no slot; its items do
  n.map = createMapState(count);
  h.out.push({ type: 'node.patch', node: i, patch: { itemCount: count } });
  h.run.maps.push(i);
  if (count === 0) finishMap(h, i);
}

/** Starts items of every expanded map while slots are free (called after any change). */
export function pumpMaps(h: MapHost): void {
  const run = h.run;
  for (let k = 0; k < run.maps.length && h.hasCapacity(); k++) {
    const i = run.maps[k]!;
    const map = run.nodes[i]!.map!;
    const limit = spec(h, i).m.concurrency;
    while (!map.finishing && map.active < limit && h.hasCapacity()) {
      let item: number;
      if (map.ready.length > 0) item = map.ready.shift()!;
      else if (map.next < map.count) item = map.next++;
      else break;
      startItem(h, i, map, item);
    }
  }
}

function startItem(h: MapHost, i: number, map: MapState, item: number): void {
  map.attempt[item]! += 1;
  const attempt = map.attempt[item]!;
  map.status[item] = ITEM_STATUS.running;
  map.active++;
  h.run.running++;
  const nodeId = h.compiled.nodes[i]!.id;
  h.out.push({ type: 'event', event: { type: 'node.started', nodeId, item, data: { attempt } } });
  h.out.push({ type: 'attempt.start', node: i, item, attempt });
}

function current(h: MapHost, i: number, item: number, attempt: number, code: ItemCode): MapState | undefined {
  const map = h.run.nodes[i]?.map;
  if (!map || map.finishing || item < 0 || item >= map.count) return undefined;
  if (map.status[item] !== code || map.attempt[item] !== attempt) return undefined;
  return map;
}

export function itemSucceeded(
  h: MapHost,
  i: number,
  item: number,
  attempt: number,
  output: unknown,
  cost: CostReport | undefined,
  durationMs: number,
): void {
  const map = current(h, i, item, attempt, ITEM_STATUS.running);
  if (!map) return;
  const n = h.run.nodes[i]!;
  const nodeId = h.compiled.nodes[i]!.id;
  map.active--;
  h.run.running--;
  map.status[item] = ITEM_STATUS.succeeded;
  map.outputs[item] = output;
  map.resolved++;
  const costUsd = cost?.costUsd ?? 0;
  n.costUsd += costUsd;
  h.out.push({ type: 'attempt.finish', node: i, item, attempt, status: 'succeeded', cost });
  h.out.push({
    type: 'node.patch',
    node: i,
    item,
    patch: { status: 'succeeded', output, error: null, costUsd: (costUsd || undefined) as number, finishedAt: h.now },
  });
  h.out.push({
    type: 'event',
    event: { type: 'node.succeeded', nodeId, item, data: { output, durationMs, cost: cost ?? null, attempt } },
  });
  if (h.addCost(costUsd)) return;
  if (map.resolved === map.count) finishMap(h, i);
}

export function itemFailed(
  h: MapHost,
  i: number,
  item: number,
  attempt: number,
  error: ErrorInfo,
  cost: CostReport | undefined,
  random: number,
): void {
  const map = current(h, i, item, attempt, ITEM_STATUS.running);
  if (!map) return;
  const n = h.run.nodes[i]!;
  const { cnode, m } = spec(h, i);
  map.active--;
  h.run.running--;
  const costUsd = cost?.costUsd ?? 0;
  n.costUsd += costUsd;
  h.out.push({ type: 'attempt.finish', node: i, item, attempt, status: 'failed', error, cost });
  if (h.addCost(costUsd)) return;

  const losses = map.leaseLosses.get(item) ?? 0;
  if (willRetryPolicy(m.retry, attempt, losses, error)) {
    const delayMs = retryDelayPolicy(m.retry, attempt - losses, error, random);
    map.status[item] = ITEM_STATUS.retrying;
    map.retrying++;
    h.run.retrying++;
    const dueAt = h.now + delayMs;
    h.out.push({ type: 'node.patch', node: i, item, patch: { status: 'retrying', error, nextAttemptAt: dueAt } });
    h.out.push({ type: 'event', event: { type: 'node.retrying', nodeId: cnode.id, item, data: { attempt, delayMs, error } } });
    h.out.push({ type: 'timer.set', node: i, item, kind: 'retry', dueAt });
    return;
  }

  map.status[item] = ITEM_STATUS.failed;
  map.resolved++;
  map.errors.set(item, error);
  h.out.push({ type: 'node.patch', node: i, item, patch: { status: 'failed', error, finishedAt: h.now } });
  h.out.push({ type: 'event', event: { type: 'node.failed', nodeId: cnode.id, item, data: { error, attempt } } });
  if (m.onItemError === 'continue') {
    if (map.resolved === map.count) finishMap(h, i);
    return;
  }
  // onItemError "fail": the first failure cancels the items in flight and fails the node.
  const reason: ErrorInfo = { code: 'CANCELLED', message: `item ${item} of map '${cnode.id}' failed` };
  cancelItems(h, i, reason);
  finishMap(h, i, {
    code: error.code,
    message: `item ${item} failed: ${error.message}`,
    retryable: false,
    details: { item },
  });
}

export function itemWaiting(
  h: MapHost,
  i: number,
  item: number,
  attempt: number,
  prompt: string,
  waitUntil: number | null,
): void {
  const map = current(h, i, item, attempt, ITEM_STATUS.running);
  if (!map) return;
  const nodeId = h.compiled.nodes[i]!.id;
  map.active--;
  h.run.running--;
  map.status[item] = ITEM_STATUS.waiting;
  map.waiting++;
  h.run.waiting++;
  h.out.push({ type: 'node.patch', node: i, item, patch: { status: 'waiting', prompt, waitUntil } });
  h.out.push({ type: 'event', event: { type: 'node.waiting', nodeId, item, data: { prompt, attempt } } });
  if (waitUntil !== null) h.out.push({ type: 'timer.set', node: i, item, kind: 'gate_timeout', dueAt: waitUntil });
}

export function itemDecided(h: MapHost, i: number, item: number, decision: GateDecision): void {
  const map = h.run.nodes[i]?.map;
  if (!map || map.finishing || map.status[item] !== ITEM_STATUS.waiting) return;
  const nodeId = h.compiled.nodes[i]!.id;
  map.waiting--;
  h.run.waiting--;
  map.active++;
  h.run.running++;
  map.status[item] = ITEM_STATUS.running;
  h.out.push({ type: 'timer.clear', node: i, item, kind: 'gate_timeout' });
  if (decision.by !== CHILD_RUN_PRINCIPAL) {
    h.out.push({
      type: 'event',
      event: decision.approved
        ? {
            type: 'gate.approved',
            nodeId,
            item,
            data: compact({ by: decision.by, comment: decision.comment, data: decision.data }),
          }
        : { type: 'gate.rejected', nodeId, item, data: compact({ by: decision.by, comment: decision.comment }) },
    });
  }
  h.out.push({
    type: 'node.patch',
    node: i,
    item,
    patch: { status: 'running', prompt: null, waitUntil: null, clearDecision: true },
  });
  if (h.run.status === 'waiting') {
    h.run.status = 'running';
    h.out.push({ type: 'run.patch', patch: { status: 'running' } });
  }
  h.out.push({ type: 'attempt.resume', node: i, item, attempt: map.attempt[item]!, decision });
}

/** A gate inside a map timed out: decided by its `onTimeout` (default reject). */
export function itemGateTimedOut(h: MapHost, i: number, item: number, principal: string): void {
  const body = spec(h, i).m.body;
  const approve = body.type === 'human_gate' && body.onTimeout === 'approve';
  itemDecided(h, i, item, { approved: approve, by: principal, comment: 'the gate timed out' });
}

export function itemRetryDue(h: MapHost, i: number, item: number): void {
  const map = h.run.nodes[i]?.map;
  if (!map || map.finishing || map.status[item] !== ITEM_STATUS.retrying) return;
  map.retrying--;
  h.run.retrying--;
  map.status[item] = ITEM_STATUS.pending;
  h.out.push({ type: 'node.patch', node: i, item, patch: { status: 'queued', nextAttemptAt: null } });
  map.ready.push(item); // started by pumpMaps, ahead of items never started
}

export function itemLeaseExpired(h: MapHost, i: number, item: number, attempt: number): void {
  const map = current(h, i, item, attempt, ITEM_STATUS.running);
  if (!map) return;
  const nodeId = h.compiled.nodes[i]!.id;
  const error: ErrorInfo = { code: 'LEASE_EXPIRED', message: 'the worker running this item stopped; retrying', retryable: true };
  map.active--;
  h.run.running--;
  map.leaseLosses.set(item, (map.leaseLosses.get(item) ?? 0) + 1);
  map.status[item] = ITEM_STATUS.pending;
  h.out.push({ type: 'attempt.finish', node: i, item, attempt, status: 'failed', error, leaseLost: true });
  h.out.push({ type: 'event', event: { type: 'node.retrying', nodeId, item, data: { attempt, delayMs: 0, error } } });
  map.ready.unshift(item);
}

/** After a restart: items that were running belong to a dead worker and run again; a decided map finishes. */
export function recoverMap(h: MapHost, i: number): void {
  const map = h.run.nodes[i]!.map!;
  for (let item = 0; item < map.count; item++) {
    if (map.status[item] === ITEM_STATUS.running) itemLeaseExpired(h, i, item, map.attempt[item]!);
  }
  if (map.finishing) return;
  const cnode = h.compiled.nodes[i]!;
  if (cnode.map!.onItemError === 'fail' && map.errors.size > 0) {
    // An item failure committed before the crash, the map's failure did not: finish it now.
    const [item, error] = [...map.errors.entries()].sort((a, b) => a[0] - b[0])[0]!;
    cancelItems(h, i, { code: 'CANCELLED', message: `item ${item} of map '${cnode.id}' failed` });
    finishMap(h, i, { code: error.code, message: `item ${item} failed: ${error.message}`, retryable: false, details: { item } });
  } else if (map.resolved === map.count) finishMap(h, i);
}

/**
 * Cancels the items not yet resolved: running and waiting ones are aborted (their remote work,
 * child runs included, is cancelled by the shell), retrying ones lose their timer, pending ones
 * never start.
 */
export function cancelItems(h: MapHost, i: number, error: ErrorInfo): void {
  const map = h.run.nodes[i]?.map;
  if (!map) return;
  const nodeId = h.compiled.nodes[i]!.id;
  const limit = map.count;
  for (let item = 0; item < limit; item++) {
    const s = map.status[item];
    if (s === ITEM_STATUS.running || s === ITEM_STATUS.waiting) {
      const attempt = map.attempt[item]!;
      h.out.push({ type: 'attempt.abort', node: i, item, attempt, error });
      h.out.push({ type: 'attempt.finish', node: i, item, attempt, status: 'cancelled', error });
      if (s === ITEM_STATUS.waiting) h.out.push({ type: 'timer.clear', node: i, item, kind: 'gate_timeout' });
      if (s === ITEM_STATUS.running) h.run.running--;
      else h.run.waiting--;
    } else if (s === ITEM_STATUS.retrying) {
      h.out.push({ type: 'timer.clear', node: i, item, kind: 'retry' });
      h.run.retrying--;
    } else continue;
    map.status[item] = ITEM_STATUS.cancelled;
    h.out.push({
      type: 'node.patch',
      node: i,
      item,
      patch: { status: 'cancelled', finishedAt: h.now, nextAttemptAt: null, waitUntil: null },
    });
    h.out.push({ type: 'event', event: { type: 'node.cancelled', nodeId, item, data: { attempt: map.attempt[item]! } } });
  }
  map.active = 0;
  map.retrying = 0;
  map.waiting = 0;
  map.ready.length = 0;
}

/** The map's result is decided: hand it to the shell, which evaluates the map's edges. */
function finishMap(h: MapHost, i: number, error?: ErrorInfo): void {
  const n = h.run.nodes[i]!;
  const map = n.map!;
  map.finishing = true;
  const k = h.run.maps.indexOf(i);
  if (k >= 0) h.run.maps.splice(k, 1);
  h.run.running++; // the map's own attempt is current again until its result is fed back
  if (error) {
    h.out.push({ type: 'map.finish', node: i, attempt: n.attempt, result: { kind: 'failed', error } });
    return;
  }
  h.out.push({ type: 'map.finish', node: i, attempt: n.attempt, result: { kind: 'succeeded', output: mapOutput(map) } });
}

/** `{ items: [output or null, …], errors: [{ index, code, message }] }`, in input order. */
export function mapOutput(map: MapState): { items: unknown[]; errors: { index: number; code: string; message: string }[] } {
  const errors = [...map.errors.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([index, e]) => ({ index, code: e.code, message: e.message }));
  return { items: map.outputs.slice(), errors };
}

function compact<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}
