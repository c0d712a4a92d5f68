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
import {
  type EventsTable,
  type NodeRetryInfo,
  type NodeRunsTable,
  nodeStatusOf,
  type RunRetryInfo,
  type RunRows,
  type RunsTable,
  toRunEvent,
} from '@trellis/store';
import type { PreparedWorkflow } from '../prepared.ts';

export interface RetryRows {
  runRow: Pick<RunsTable, 'retry_of' | 'retry_info'>;
  nodes: NodeRunsTable[];
  /** Reused nodes whose attempts are copied from the original run (by the store, in SQL). */
  copyAttempts: { fromRunId: string; nodeIds: string[] };
  /** run.queued then one node.reused per reused node, seq 1…n. */
  events: EventsTable[];
  /** The same events, to announce once committed. */
  announce: RunEvent[];
  /** The new run's node states as the scheduler rebuilds them, by node index. */
  persisted: PersistedNodeState[];
  plan: RetryPlan;
}

export interface RetryBuildInput {
  newRunId: string;
  at: string;
  original: RunRows;
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

export async function buildRetryRows(input: RetryBuildInput): Promise<RetryRows> {
  const { original, originalPrepared, target, newRunId, at } = input;
  const orun = original.run;
  if (!FINISHED.has(orun.status)) {
    throw new TrellisError(
      'RUN_NOT_FINISHED',
      `run ${orun.id} is ${orun.status}; only a succeeded, failed or cancelled run can be retried (cancel it first)`,
      { category: 'user' },
    );
  }
  const rowsById = new Map(original.nodes.map((n) => [n.node_id, n]));
  const originalNodes = new Map<string, OriginalNode>();
  for (const n of original.nodes) {
    const info = n.retry_info ? (JSON.parse(n.retry_info) as NodeRetryInfo) : {};
    originalNodes.set(n.node_id, {
      status: nodeStatusOf(n.status),
      attempt: n.attempt,
      costUsd: n.cost_usd,
      reusedFrom: n.reused_from ?? null,
      costSavedUsd: info.costSavedUsd ?? 0,
      approvalRequired: info.approvalRequired !== undefined,
    });
  }
  const result = planRetry({
    originalRunId: orun.id,
    original: originalPrepared.compiled,
    originalVersion: orun.version,
    originalNodes,
    target: target.compiled,
    targetVersion: input.targetVersion,
    from: input.from,
    sameWorkflow: input.scratchWorkflowId === undefined,
  });
  if (!result.ok) throw planError(result.error);
  const { plan } = result;

  const compiled = target.compiled;
  const context = JSON.parse(orun.input) as unknown;
  const outputs = new Map<string, unknown>();
  const nodes: NodeRunsTable[] = [];
  /** Reused nodes whose attempts the store copies from the original run. */
  const copied: string[] = [];
  const queued =
    input.scratchWorkflowId === undefined
      ? { workflowId: orun.workflow_id, version: input.targetVersion, retryOf: orun.id }
      : { workflowId: input.scratchWorkflowId, version: input.targetVersion };
  const events: EventsTable[] = [
    { run_id: newRunId, seq: 1, type: 'run.queued', node_id: null, at, data: JSON.stringify(queued) },
  ];
  const announce: RunEvent[] = [{ seq: 1, runId: newRunId, type: 'run.queued', at, data: queued }];
  const persisted: PersistedNodeState[] = new Array(compiled.nodes.length);
  const sameVersion = originalPrepared === target;

  for (const i of compiled.order) {
    const cn = compiled.nodes[i]!;
    const p = plan.nodes[i]!;
    if (p.kind === 'run') {
      const info: NodeRetryInfo = { notReused: p.reason };
      if (p.approval !== null) info.approvalRequired = p.approval;
      nodes.push(pendingRow(newRunId, cn.id, info));
      persisted[i] = pendingState(p.approval);
      continue;
    }
    const row = rowsById.get(cn.id)!;
    const output = row.output === null ? null : (JSON.parse(row.output) as unknown);
    outputs.set(cn.id, output);
    const taken = sameVersion
      ? row.taken === null
        ? []
        : (JSON.parse(row.taken) as number[])
      : await takenAcrossVersions(i, row, output, context, outputs, originalPrepared, target, input.evaluator);
    const info: NodeRetryInfo = { costSavedUsd: p.costSavedUsd };
    if (p.note !== null) info.reuseNote = p.note;
    nodes.push({
      run_id: newRunId,
      node_id: cn.id,
      status: 'succeeded',
      attempt: row.attempt,
      input: row.input,
      output: row.output,
      error: null,
      cost_usd: 0,
      started_at: row.started_at,
      finished_at: row.finished_at,
      next_attempt_at: null,
      prompt: null,
      wait_until: null,
      remote_ref: null,
      decision: null,
      taken: JSON.stringify(taken),
      reused_from: p.reusedFrom,
      retry_info: JSON.stringify(info),
      item_count: row.item_count ?? null,
    });
    copied.push(cn.id);
    const data: Record<string, unknown> = { reusedFrom: p.reusedFrom, output, costSavedUsd: p.costSavedUsd };
    if (p.note !== null) data.note = p.note;
    const seq = events.length + 1;
    // The stored output text goes into the event as it is (no second JSON.stringify of it).
    const text = `{"reusedFrom":${JSON.stringify(p.reusedFrom)},"costSavedUsd":${p.costSavedUsd}${p.note === null ? '' : `,"note":${JSON.stringify(p.note)}`},"output":${row.output ?? 'null'}}`;
    events.push({ run_id: newRunId, seq, type: 'node.reused', node_id: cn.id, at, data: text });
    announce.push({ seq, runId: newRunId, type: 'node.reused', nodeId: cn.id, at, data } as RunEvent);
    // A map's items are rows of their own (`<id>[<index>]`): they come along, as they were,
    // each with its own node.reused event (after the map's).
    if (cn.type === 'map') {
      const prefix = `${cn.id}[`;
      for (const item of original.nodes) {
        if (!item.node_id.startsWith(prefix)) continue;
        nodes.push({ ...item, run_id: newRunId, cost_usd: 0, remote_ref: null, decision: null, reused_from: p.reusedFrom });
        copied.push(item.node_id);
        const ev: EventsTable = {
          run_id: newRunId,
          seq: events.length + 1,
          type: 'node.reused',
          node_id: item.node_id,
          at,
          data: `{"reusedFrom":${JSON.stringify(p.reusedFrom)},"costSavedUsd":0,"output":${item.output ?? 'null'}}`,
        };
        events.push(ev);
        announce.push(toRunEvent(ev));
      }
    }
    persisted[i] = {
      status: 'succeeded',
      attempt: row.attempt,
      output,
      error: null,
      costUsd: 0,
      taken,
      leaseLosses: 0,
    };
  }

  const retryInfo: RunRetryInfo = { version: input.versionMode, fromVersion: orun.version, costSavedUsd: plan.costSavedUsd };
  if (input.from !== undefined) retryInfo.from = [...input.from];
  return {
    runRow: { retry_of: input.scratchWorkflowId === undefined ? orun.id : null, retry_info: JSON.stringify(retryInfo) },
    nodes,
    copyAttempts: { fromRunId: orun.id, nodeIds: copied },
    events,
    announce,
    persisted,
    plan,
  };
}

function planError(e: ErrorInfo): TrellisError {
  return TrellisError.fromInfo(e, { category: 'user' });
}

function pendingRow(runId: string, nodeId: string, info: NodeRetryInfo): NodeRunsTable {
  return {
    run_id: runId,
    node_id: nodeId,
    status: 'pending',
    attempt: 0,
    input: null,
    output: null,
    error: null,
    cost_usd: 0,
    started_at: null,
    finished_at: null,
    next_attempt_at: null,
    prompt: null,
    wait_until: null,
    remote_ref: null,
    decision: null,
    taken: null,
    reused_from: null,
    retry_info: JSON.stringify(info),
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
  row: NodeRunsTable,
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
  const origTaken = new Set(row.taken === null ? [] : (JSON.parse(row.taken) as number[]));
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
