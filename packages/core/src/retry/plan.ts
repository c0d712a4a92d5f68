/**
 * Planning a retry: which nodes of the new run are reused from the run it retries, and why
 * each other node runs again. Pure: the runtime reads the original run and writes the plan.
 *
 * The rules (docs/retry.md):
 * * The rerun set is `from` when given, else every node that failed or was cancelled.
 * * A node is reused when it succeeded in the original run, is not in the rerun set, every
 *   predecessor is *clean* (reused, or skipped in the original for a reason that holds again),
 *   and — when the retry runs another version — its closure hash (definition, incoming edges,
 *   everything upstream) is unchanged. Everything downstream of a node that runs again runs
 *   again (or is skipped again), so conditions and joins always see the outputs of this run.
 * * A node with `sideEffects: "irreversible"` that runs again after it already ran (in the
 *   original run or earlier in the chain of retries) waits for an approval first.
 */
import type { CompiledWorkflow } from '../compiled.ts';
import type { ErrorInfo } from '../errors.ts';
import type { NodeStatus } from '../status.ts';
import { nodeHashes } from './closure-hash.ts';

/** What the original run says about one node. */
export interface OriginalNode {
  status: NodeStatus;
  /** Attempts it made (copied attempts included). */
  attempt: number;
  costUsd: number;
  /** Set when the original run itself reused the node. */
  reusedFrom: string | null;
  costSavedUsd: number;
  /** The original run required an approval before running it (it had irreversible effects before). */
  approvalRequired: boolean;
}

export interface RetryPlanInput {
  originalRunId: string;
  original: CompiledWorkflow;
  originalVersion: number;
  /** By node id. */
  originalNodes: ReadonlyMap<string, OriginalNode>;
  target: CompiledWorkflow;
  targetVersion: number;
  /** Nodes to run again (their downstream reruns too); default: the failed and cancelled ones. */
  from?: readonly string[] | undefined;
  /**
   * False when `target` is another workflow's definition (a builder test run reusing a real
   * run's outputs): version numbers then say nothing, and closure hashes decide every reuse.
   */
  sameWorkflow?: boolean | undefined;
}

export type NodePlan =
  | {
      kind: 'reuse';
      /** The run that executed the node (earlier retries are looked through). */
      reusedFrom: string;
      costSavedUsd: number;
      note: string | null;
    }
  | {
      kind: 'run';
      /** Why it is not reused. */
      reason: string;
      /** The prompt of the approval it needs before its first attempt, if any. */
      approval: string | null;
    };

export interface RetryPlan {
  /** By node index of the target version. */
  nodes: NodePlan[];
  reused: number;
  costSavedUsd: number;
}

export type RetryPlanResult = { ok: true; plan: RetryPlan } | { ok: false; error: ErrorInfo };

export function planRetry(input: RetryPlanInput): RetryPlanResult {
  const { original, target, originalRunId, originalNodes } = input;
  const sameVersion = original === target || (input.sameWorkflow !== false && input.originalVersion === input.targetVersion);
  const run = `run ${originalRunId}`;

  let rerun: ReadonlySet<string>;
  if (input.from !== undefined) {
    const unknown = input.from.filter((id) => !target.indexById.has(id));
    if (unknown.length > 0) {
      return {
        ok: false,
        error: {
          code: 'RETRY_UNKNOWN_NODE',
          message: `'from' names ${unknown.map((u) => `'${u}'`).join(', ')}, which version ${input.targetVersion} of the workflow does not have; name nodes of that version`,
          details: { nodes: unknown },
        },
      };
    }
    rerun = new Set(input.from);
  } else {
    const s = new Set<string>();
    for (const [id, n] of originalNodes) if (n.status === 'failed' || n.status === 'cancelled') s.add(id);
    rerun = s;
  }

  let hashes: { original: ReturnType<typeof nodeHashes>; target: ReturnType<typeof nodeHashes> } | undefined;
  if (!sameVersion) hashes = { original: nodeHashes(original), target: nodeHashes(target) };

  const nodes: NodePlan[] = new Array(target.nodes.length);
  /** Clean: reused, or skipped in the original for reasons that hold again. */
  const clean = new Uint8Array(target.nodes.length);
  /** For a node that runs again, the node whose change or failure caused it (for the reason). */
  const cause: (string | undefined)[] = new Array(target.nodes.length);
  let reused = 0;
  let costSavedUsd = 0;

  for (const i of target.order) {
    const node = target.nodes[i]!;
    const id = node.id;
    const orig = originalNodes.get(id);
    const origIdx = original.indexById.get(id);
    let reason: string | undefined;
    if (orig === undefined || origIdx === undefined) {
      reason = `'${id}' is new in version ${input.targetVersion}`;
      cause[i] = id;
    } else if (rerun.has(id)) {
      reason =
        input.from !== undefined
          ? `'${id}' was picked to run again`
          : `'${id}' ${orig.status === 'failed' ? 'failed' : 'was cancelled'} in ${run}`;
      cause[i] = id;
    } else {
      const dirtyPred = node.predecessors.find((p) => clean[p] === 0);
      if (dirtyPred !== undefined) {
        const root = cause[dirtyPred] ?? target.nodes[dirtyPred]!.id;
        reason = `it is downstream of '${root}', which runs again`;
        cause[i] = root;
      } else if (hashes && hashes.original.local[origIdx] !== hashes.target.local[i]) {
        reason = `its definition or incoming edges changed in version ${input.targetVersion}`;
        cause[i] = id;
      } else if (hashes && hashes.original.closure[origIdx] !== hashes.target.closure[i]) {
        reason = `something upstream of it changed in version ${input.targetVersion}`;
        cause[i] = id;
      } else if (orig.status === 'skipped') {
        clean[i] = 1; // it will be skipped again, for the same reason
        reason = `it was skipped in ${run}; its incoming edges are decided again`;
      } else if (orig.status !== 'succeeded') {
        reason = `it ended ${orig.status} in ${run}`;
        cause[i] = id;
      }
    }
    const irreversible = node.def.sideEffects === 'irreversible';
    if (reason === undefined) {
      const from = orig!.reusedFrom ?? originalRunId;
      const saved = orig!.costUsd + orig!.costSavedUsd;
      clean[i] = 1;
      reused++;
      costSavedUsd += saved;
      nodes[i] = {
        kind: 'reuse',
        reusedFrom: from,
        costSavedUsd: saved,
        note: irreversible
          ? `'${id}' has irreversible side effects: its effect from run ${from} stands and is not repeated`
          : null,
      };
      continue;
    }
    const ranBefore = orig !== undefined && (orig.attempt > 0 || orig.approvalRequired);
    nodes[i] = {
      kind: 'run',
      reason,
      approval:
        irreversible && ranBefore
          ? `'${id}' has irreversible side effects and already ran before this retry (${orig!.status} in ${run}). Approve to run it again; reject to stop here.`
          : null,
    };
  }

  const executes = nodes.some((n, i) => n.kind === 'run' && clean[i] === 0);
  if (!executes) {
    return {
      ok: false,
      error: {
        code: 'NOTHING_TO_RERUN',
        message: `every node of ${run} would be reused, so a retry would run nothing; pass 'from' with the nodes to run again${sameVersion ? ", or change the workflow and retry with version 'latest'" : ''}`,
      },
    };
  }
  return { ok: true, plan: { nodes, reused, costSavedUsd } };
}
