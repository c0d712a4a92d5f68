/**
 * Recovery: rebuild a run's in-memory state from its persisted node rows. Nothing but the rows
 * is needed — the counters the scheduler keeps (pending/taken incoming edges, running,
 * waiting…) are derived here — so a restarted worker continues exactly where the log left off.
 */
import type { CompiledWorkflow } from '../compiled.ts';
import type { ErrorInfo } from '../errors.ts';
import type { NodeStatus, RunStatus } from '../status.ts';
import { createRunState } from './decide.ts';
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
      case 'running':
        run.running++;
        break;
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
