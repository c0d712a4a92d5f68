/**
 * Retries (docs/retry.md): turning a finished run into the rows of a new run that reuses what
 * already succeeded. Reuse is a copy, not a replay: the reused nodes' rows (output, attempts,
 * taken edges) and their `node.reused` events are written with the new run, in the
 * transaction that creates it, and the scheduler starts from those resolved nodes.
 */
import {
  type ErrorInfo,
  type ExpressionEvaluator,
  type OriginalNode,
  type PersistedNodeState,
  planRetry,
  type RetryPlan,
  type RunEvent,
  TrellisError,
} from '@trellis/core';
import type { NewRetry, NodeRetryInfo, PastNode, PastRun, RetryNode, RunRetryInfo } from '@trellis/store';
import type { PreparedWorkflow } from '../prepared.ts';

export interface RetryBuild {
  /** The new run's link, node states and attempts to copy (the store writes them with the run). */
  retry: NewRetry;
  /** run.queued then one node.reused per reused node (and map item), seq 1…n. */
  events: RunEvent[];
  /** The new run's node states as the scheduler rebuilds them, by node index. */
  persisted: PersistedNodeState[];
  plan: RetryPlan;
}

export interface RetryBuildInput {
  newRunId: string;
  /** ISO-8601: the time of the new run's first events. */
  at: string;
  original: PastRun;
  originalPrepared: PreparedWorkflow;
  target: PreparedWorkflow;
  targetVersion: number;
  from?: readonly string[] | undefined;
  versionMode: 'same' | 'latest';
  /** Evaluates edge conditions (the engine's expression sandbox). */
  evaluator: ExpressionEvaluator;
  /** A scratch run: the scratch workflow it runs; the new run is then not linked to the original. */
  scratchWorkflowId?: string;
}

const FINISHED: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled']);

export async function buildRetry(input: RetryBuildInput): Promise<RetryBuild> {
  const { original, originalPrepared, target, newRunId, at } = input;
  if (!FINISHED.has(original.status)) {
    throw new TrellisError(
      'RUN_NOT_FINISHED',
      `run ${original.id} is ${original.status}; only a succeeded, failed or cancelled run can be retried (cancel it first)`,
      { category: 'user' },
    );
  }
  const originalNodes = new Map<string, OriginalNode>();
  for (const [id, n] of original.nodes) {
    const info: NodeRetryInfo = n.retryInfo ?? {};
    originalNodes.set(id, {
      status: n.status,
      attempt: n.attempt,
      costUsd: n.costUsd,
      reusedFrom: n.reusedFrom,
      costSavedUsd: info.costSavedUsd ?? 0,
      approvalRequired: info.approvalRequired !== undefined,
    });
  }
  const result = planRetry({
    originalRunId: original.id,
    original: originalPrepared.compiled,
    originalVersion: original.version,
    originalNodes,
    target: target.compiled,
    targetVersion: input.targetVersion,
    from: input.from,
    sameWorkflow: input.scratchWorkflowId === undefined,
  });
  if (!result.ok) throw planError(result.error);
  const { plan } = result;

  const compiled = target.compiled;
  const context = original.input;
  const outputs = new Map<string, unknown>();
  const nodes: RetryNode[] = [];
  const queued =
    input.scratchWorkflowId === undefined
      ? { workflowId: original.workflowId, version: input.targetVersion, retryOf: original.id }
      : { workflowId: input.scratchWorkflowId, version: input.targetVersion };
  const events: RunEvent[] = [{ seq: 1, runId: newRunId, type: 'run.queued', at, data: queued }];
  const persisted: PersistedNodeState[] = new Array(compiled.nodes.length);
  const sameVersion = originalPrepared === target;

  for (const i of compiled.order) {
    const cn = compiled.nodes[i]!;
    const p = plan.nodes[i]!;
    if (p.kind === 'run') {
      const info: NodeRetryInfo = { notReused: p.reason };
      if (p.approval !== null) info.approvalRequired = p.approval;
      nodes.push(pendingNode(cn.id, info));
      persisted[i] = pendingState(p.approval);
      continue;
    }
    const past = original.nodes.get(cn.id)!;
    const output = past.output === undefined ? null : past.output;
    outputs.set(cn.id, output);
    const taken = sameVersion
      ? (past.taken ?? [])
      : await takenAcrossVersions(i, past, output, context, outputs, originalPrepared, target, input.evaluator);
    const info: NodeRetryInfo = { costSavedUsd: p.costSavedUsd };
    if (p.note !== null) info.reuseNote = p.note;
    nodes.push({
      nodeId: cn.id,
      status: 'succeeded',
      attempt: past.attempt,
      input: past.input,
      output: past.output,
      error: null,
      startedAt: past.startedAt,
      finishedAt: past.finishedAt,
      taken,
      reusedFrom: p.reusedFrom,
      retryInfo: info,
      itemCount: past.itemCount,
    });
    const data =
      p.note === null
        ? { reusedFrom: p.reusedFrom, costSavedUsd: p.costSavedUsd, output }
        : { reusedFrom: p.reusedFrom, costSavedUsd: p.costSavedUsd, note: p.note, output };
    events.push({ seq: events.length + 1, runId: newRunId, type: 'node.reused', nodeId: cn.id, at, data });
    // A map's items are rows of their own (`<id>[<index>]`): they come along, as they were,
    // each with its own node.reused event (after the map's).
    if (cn.type === 'map') {
      for (const { index, node } of original.items.get(cn.id) ?? []) {
        nodes.push(reusedItem(cn.id, index, node, p.reusedFrom));
        events.push({
          seq: events.length + 1,
          runId: newRunId,
          type: 'node.reused',
          nodeId: cn.id,
          item: index,
          at,
          data: { reusedFrom: p.reusedFrom, costSavedUsd: 0, output: node.output === undefined ? null : node.output },
        });
      }
    }
    persisted[i] = {
      status: 'succeeded',
      attempt: past.attempt,
      output,
      error: null,
      costUsd: 0,
      taken,
      leaseLosses: 0,
    };
  }

  const info: RunRetryInfo = { version: input.versionMode, fromVersion: original.version, costSavedUsd: plan.costSavedUsd };
  if (input.from !== undefined) info.from = [...input.from];
  return {
    retry: { retryOf: input.scratchWorkflowId === undefined ? original.id : null, info, fromRunId: original.id, nodes },
    events,
    persisted,
    plan,
  };
}

function planError(e: ErrorInfo): TrellisError {
  return TrellisError.fromInfo(e, { category: 'user' });
}

function pendingNode(nodeId: string, info: NodeRetryInfo): RetryNode {
  return {
    nodeId,
    status: 'pending',
    attempt: 0,
    input: undefined,
    output: undefined,
    error: null,
    startedAt: null,
    finishedAt: null,
    taken: null,
    reusedFrom: null,
    retryInfo: info,
    itemCount: null,
  };
}

/** A map item of a reused map node, as it was (its cost is the original run's). */
function reusedItem(nodeId: string, item: number, n: PastNode, reusedFrom: string): RetryNode {
  return {
    nodeId,
    item,
    status: n.status,
    attempt: n.attempt,
    input: n.input,
    output: n.output,
    error: n.error,
    startedAt: n.startedAt,
    finishedAt: n.finishedAt,
    taken: n.taken,
    reusedFrom,
    retryInfo: n.retryInfo,
    itemCount: n.itemCount,
  };
}

function pendingState(approval: string | null): PersistedNodeState {
  return { status: 'pending', attempt: 0, output: undefined, error: null, costUsd: 0, taken: null, leaseLosses: 0, approval };
}

/**
 * The outgoing edges a reused node takes in another version: an edge that exists unchanged in
 * the original version is taken as it was; a new or changed edge is decided now, from the
 * reused outputs (as the engine decides edges when a node finishes).
 */
async function takenAcrossVersions(
  i: number,
  past: PastNode,
  output: unknown,
  context: unknown,
  outputs: ReadonlyMap<string, unknown>,
  originalPrepared: PreparedWorkflow,
  target: PreparedWorkflow,
  evaluator: ExpressionEvaluator,
): Promise<number[]> {
  const oc = originalPrepared.compiled;
  const tc = target.compiled;
  const cn = tc.nodes[i]!;
  const origTaken = new Set(past.taken ?? []);
  const oi = oc.indexById.get(cn.id)!;
  const taken: number[] = [];
  for (const e of cn.outgoing) {
    const edge = tc.edges[e]!;
    const toId = tc.nodes[edge.to]!.id;
    const same = oc.nodes[oi]!.outgoing.find(
      (oe) => oc.nodes[oc.edges[oe]!.to]!.id === toId && oc.edges[oe]!.condition === edge.condition,
    );
    if (same !== undefined) {
      if (origTaken.has(same)) taken.push(e);
      continue;
    }
    const cond = target.conditions[e];
    if (!cond) {
      taken.push(e);
      continue;
    }
    const scope: Record<string, unknown> = { context };
    for (const v of target.conditionVariables[e]!) if (v !== 'context') scope[v] = outputs.get(v) ?? null;
    scope[cn.id] = output;
    try {
      if ((await evaluator.evaluate([{ source: cond.source, scope }]))[0] === true) taken.push(e);
    } catch {
      // A condition that fails to evaluate takes no edge, as when the node finishes.
    }
  }
  return taken;
}
