/**
 * Recovery: rebuild a run's in-memory state from its persisted node rows. Nothing but the rows
 * is needed — the counters the scheduler keeps (pending/taken incoming edges, running,
 * waiting…) are derived here — so a restarted worker continues exactly where the log left off.
 */
import type { CompiledWorkflow } from '../compiled.ts';
import type { ErrorInfo } from '../errors.ts';
import type { NodeStatus, RunStatus } from '../status.ts';
import { createRunState } from './decide.ts';
import { createMapState, ITEM_STATUS } from './map.ts';
import type { RunState } from './types.ts';

export interface PersistedNodeState {
  status: NodeStatus;
  attempt: number;
  output: unknown;
  error: ErrorInfo | null;
  costUsd: number;
  /** Outgoing edge indexes taken, for resolved nodes. */
  taken: number[] | null;
  /** Attempts of this node that ended with LEASE_EXPIRED. */
  leaseLosses: number;
  /** Retries: the prompt of the automatic approval this node needs before its first attempt. */
  approval?: string | null;
  /** Recoveries in a row that found the node in flight (see NodeState.recoveries). */
  recoveries?: number;
  /** A clean shutdown left the node's attempt in flight. */
  interrupted?: boolean;
  /** A map node whose items were resolved: their count. */
  itemCount?: number | null;
  /** A map node's item rows (items never started have none). */
  items?: PersistedItemState[];
}

export interface PersistedItemState {
  index: number;
  status: NodeStatus;
  attempt: number;
  output: unknown;
  error: ErrorInfo | null;
  leaseLosses: number;
}

export interface PersistedRunState {
  status: RunStatus;
  costUsd: number;
  /** By node index (the compiled order). */
  nodes: PersistedNodeState[];
}

export function rebuildRunState(runId: string, compiled: CompiledWorkflow, persisted: PersistedRunState): RunState {
  const run = createRunState(runId, compiled);
  run.status = persisted.status;
  run.costUsd = persisted.costUsd;
  for (let i = 0; i < run.nodes.length; i++) {
    const p = persisted.nodes[i];
    if (p === undefined) continue;
    const n = run.nodes[i]!;
    n.status = p.status;
    n.attempt = p.attempt;
    n.output = p.output;
    n.error = p.error;
    n.costUsd = p.costUsd;
    n.taken = p.taken;
    n.leaseLosses = p.leaseLosses;
    n.approval = p.approval ?? null;
    n.recoveries = p.recoveries ?? 0;
    n.interrupted = p.interrupted ?? false;
  }
  const { nodes: cnodes, edges } = compiled;
  for (let i = 0; i < run.nodes.length; i++) {
    const n = run.nodes[i]!;
    switch (n.status) {
      case 'succeeded':
      case 'failed':
      case 'skipped':
      case 'cancelled': {
        run.resolved++;
        const taken = new Set(
          n.status === 'succeeded' || (n.status === 'failed' && cnodes[i]!.onError === 'continue') ? (n.taken ?? []) : [],
        );
        for (const e of cnodes[i]!.outgoing) {
          const s = run.nodes[edges[e]!.to]!;
          s.pendingIn--;
          if (taken.has(e)) s.takenIn++;
        }
        break;
      }
      case 'running': {
        const p = persisted.nodes[i];
        if (p?.itemCount != null && compiled.nodes[i]!.map) {
          rebuildMap(run, i, p.itemCount, p.items ?? []);
          break;
        }
        run.running++;
        break;
      }
      case 'retrying':
        run.retrying++;
        break;
      case 'waiting':
        run.waiting++;
        break;
      case 'queued':
        run.queue.push(i);
        break;
      case 'pending':
        break;
      default: {
        const never: never = n.status;
        throw new Error(`unhandled node status ${String(never)}`);
      }
    }
  }
  return run;
}

/** A running map's items from their rows: finished ones kept, the rest to resume or start. */
function rebuildMap(run: RunState, i: number, count: number, items: PersistedItemState[]): void {
  const map = createMapState(count);
  const seen = new Uint8Array(count);
  let max = -1;
  for (const it of items) {
    if (it.index < 0 || it.index >= count) continue;
    seen[it.index] = 1;
    if (it.index > max) max = it.index;
    map.attempt[it.index] = it.attempt;
    if (it.leaseLosses > 0) map.leaseLosses.set(it.index, it.leaseLosses);
    switch (it.status) {
      case 'succeeded':
        map.status[it.index] = ITEM_STATUS.succeeded;
        map.outputs[it.index] = it.output ?? null;
        map.resolved++;
        break;
      case 'failed':
        map.status[it.index] = ITEM_STATUS.failed;
        if (it.error) map.errors.set(it.index, it.error);
        map.resolved++;
        break;
      case 'running':
        map.status[it.index] = ITEM_STATUS.running;
        map.active++;
        run.running++;
        break;
      case 'retrying':
        map.status[it.index] = ITEM_STATUS.retrying;
        map.retrying++;
        run.retrying++;
        break;
      case 'waiting':
        map.status[it.index] = ITEM_STATUS.waiting;
        map.waiting++;
        run.waiting++;
        break;
      case 'cancelled':
        map.status[it.index] = ITEM_STATUS.cancelled;
        break;
      default:
        // pending/queued: a retry whose delay had passed, or a row whose first attempt never committed
        map.ready.push(it.index);
    }
  }
  map.next = max + 1;
  for (let k = 0; k < map.next; k++) if (!seen[k]) map.ready.push(k);
  run.nodes[i]!.map = map;
  run.maps.push(i);
}
