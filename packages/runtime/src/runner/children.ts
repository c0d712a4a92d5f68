/**
 * Sub-workflows: the executor of `workflow` nodes (and of map items whose body is one) and the
 * links between a parent run and its child runs.
 *
 * A child run is a real run (own record, events, cost), started with the idempotency key
 * `child:<parentRunId>:<node key>`, so a parent attempt re-executed after a crash re-attaches to
 * the same child instead of starting a second one. The parent's attempt follows the child:
 *
 * - child finishes → the node succeeds with the child's output (plus `_run`), or fails with the
 *   child's error; the child's cost is reported as the attempt's cost (so it counts against the
 *   parent's budget);
 * - child waits (a gate) → the node *waits* too (so the parent run can be `waiting` and evicted);
 *   when the child moves on, it records a decision on the parent's node (`trellis:child-run`),
 *   which resumes the parent's attempt, and the attempt follows the child again;
 * - the parent's attempt is aborted (cancel, failure, deadline) → the child is cancelled.
 */
import {
  CHILD_RUN_PRINCIPAL,
  type ExecutionResult,
  type Executor,
  type ExecutorContext,
  type GateDecision,
  type RunRecord,
  type RunStatus,
  TrellisError,
} from '@trellis/core';
import type { GateDecisionOutcome, StartRunResult, SubscribeOptions, Subscription } from '../engine.ts';
import { traceHeadersFor } from '../tracing/propagation.ts';
import type { Batch } from './batch.ts';
import type { HotRun, ParentLink } from './hot-run.ts';

/** Resolves a `workflow` reference at run time and checks that the parent's owner may run it. */
export interface WorkflowResolver {
  /**
   * `ref` is an id or a name; `version` undefined means the latest. `parentWorkflowId` is the
   * workflow of the run starting the child: its owner needs the `runner` role on the child.
   * Throws TrellisError WORKFLOW_NOT_FOUND or WORKFLOW_FORBIDDEN.
   */
  resolve(ref: string, version: number | undefined, parentWorkflowId: string): Promise<{ workflowId: string; version: number }>;
}

/** What the child-run logic needs from the engine. */
export interface ChildHost {
  startRun(req: {
    workflowId: string;
    version: number;
    input: unknown;
    createdBy?: string;
    idempotencyKey: string;
    parent: ParentLink & { depth: number };
    traceParent?: string;
  }): Promise<StartRunResult>;
  cancelRun(runId: string, reason?: string): Promise<{ status: RunStatus } | undefined>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  subscribe(runId: string, options: SubscribeOptions): Subscription;
  decideGate(runId: string, nodeKey: string, decision: GateDecision): Promise<GateDecisionOutcome>;
  hotRun(runId: string): HotRun | undefined;
  remoteRef(runId: string, key: string): unknown;
  remoteRefsOf(runId: string): Iterable<[string, unknown]>;
  warn(msg: string, data?: Record<string, unknown>): void;
}

const TERMINAL: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled']);

interface ChildRef {
  childRunId: string;
}

function childOf(ref: unknown): string | undefined {
  const id = (ref as Partial<ChildRef> | null | undefined)?.childRunId;
  return typeof id === 'string' ? id : undefined;
}

export class ChildRuns {
  readonly executor: Executor;

  constructor(
    private readonly host: ChildHost,
    private readonly resolver: WorkflowResolver | undefined,
  ) {
    this.executor = { execute: (input, ctx) => this.execute(input, ctx) };
  }

  private async execute(input: unknown, ctx: ExecutorContext): Promise<ExecutionResult> {
    const def = ctx.node;
    if (def.type !== 'workflow') throw new TrellisError('INTERNAL', 'the workflow executor got another node type');
    const run = this.host.hotRun(ctx.runId);
    if (!run) throw new TrellisError('CANCELLED', 'the run is no longer held by this worker');
    const nodeKey = ctx.item === undefined ? ctx.nodeId : `${ctx.nodeId}[${ctx.item}]`;
    let childRunId = childOf(ctx.remoteRef);
    if (childRunId === undefined) {
      if (!this.resolver)
        throw new TrellisError(
          'EXECUTOR_NOT_FOUND',
          'this engine was started without a workflow resolver, so it cannot start child runs',
          {
            category: 'system',
          },
        );
      const target = await this.resolver.resolve(def.workflow, def.version, run.workflowId);
      // Traced: the child run's span is a child of this attempt's span, in the parent's trace.
      const traceParent = traceHeadersFor(ctx).traceparent;
      const started = await this.host.startRun({
        ...(traceParent === undefined ? {} : { traceParent }),
        workflowId: target.workflowId,
        version: target.version,
        input: input ?? {},
        ...(run.createdBy === null ? {} : { createdBy: run.createdBy }),
        idempotencyKey: `child:${run.id}:${nodeKey}`,
        parent: { runId: run.id, nodeKey, depth: run.depth + 1 },
      });
      childRunId = started.runId;
      await ctx.saveRemoteRef({ childRunId } satisfies ChildRef);
    }
    const outcome = await this.follow(childRunId, ctx.signal);
    if (outcome.kind === 'waiting') return { kind: 'waiting', prompt: outcome.prompt };
    const child = outcome.record;
    if (child.costUsd > 0) ctx.reportCost({ costUsd: child.costUsd });
    if (child.status === 'succeeded') {
      const out = child.output;
      const output =
        out !== null && typeof out === 'object' && !Array.isArray(out)
          ? { ...(out as Record<string, unknown>), _run: childRunId }
          : { value: out, _run: childRunId };
      return { kind: 'succeeded', output };
    }
    const err = child.error ?? {
      code: child.status === 'cancelled' ? 'CANCELLED' : 'NODE_FAILED',
      message: `the child run ${child.status}`,
    };
    throw TrellisError.fromInfo(
      { code: err.code, message: `child run ${childRunId} ${child.status}: ${err.message}`, details: { childRunId } },
      { category: 'user' },
    );
  }

  /**
   * Follows the child run until it ends (its record) or waits for people (its prompt). On abort
   * the child is cancelled.
   */
  private follow(
    childRunId: string,
    signal: AbortSignal,
  ): Promise<{ kind: 'ended'; record: RunRecord } | { kind: 'waiting'; prompt: string }> {
    return new Promise((resolve, reject) => {
      let sub: Subscription | undefined;
      let done = false;
      const finish = (fn: () => void) => {
        if (done) return;
        done = true;
        sub?.close();
        signal.removeEventListener('abort', onAbort);
        fn();
      };
      const onAbort = () => {
        void this.host.cancelRun(childRunId, 'the parent run cancelled it').catch(() => {});
        finish(() => reject(signal.reason));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const check = async () => {
        const rec = await this.host.getRun(childRunId);
        if (!rec) return finish(() => reject(new TrellisError('WORKFLOW_NOT_FOUND', `child run ${childRunId} does not exist`)));
        if (TERMINAL.has(rec.status)) return finish(() => resolve({ kind: 'ended', record: rec }));
        if (rec.status === 'waiting') return finish(() => resolve({ kind: 'waiting', prompt: waitingPrompt(childRunId, rec) }));
        return rec.lastSeq;
      };
      void check()
        .then((lastSeq) => {
          if (done || lastSeq === undefined) return;
          sub = this.host.subscribe(childRunId, {
            after: lastSeq,
            onEvent: (e) => {
              if (e.type === 'run.waiting' || TERMINAL.has(e.type.slice(4)))
                void check().catch((err) => finish(() => reject(err)));
            },
            onEnd: () => void check().catch((err) => finish(() => reject(err))),
            onError: (error) => finish(() => reject(TrellisError.fromInfo(error))),
          });
        })
        .catch((err) => finish(() => reject(err)));
    });
  }

  /** A child run moved on (out of waiting, or ended): resume its parent's node if it is waiting. */
  notifyParent(parent: ParentLink): void {
    void this.host
      .decideGate(parent.runId, parent.nodeKey, { approved: true, by: CHILD_RUN_PRINCIPAL })
      .catch((err: unknown) => this.host.warn('could not resume the parent run', { runId: parent.runId, error: String(err) }));
  }

  /**
   * The parent's `workflow` node just started waiting (committed). The child may have moved on
   * between the moment the attempt saw it waiting and this commit; then it resumes the parent now.
   */
  async parentWaiting(run: HotRun, nodeKey: string): Promise<void> {
    const childRunId = childOf(this.host.remoteRef(run.id, nodeKey));
    if (!childRunId) return;
    const rec = await this.host.getRun(childRunId);
    if (rec && rec.status !== 'waiting') this.notifyParent({ runId: run.id, nodeKey });
  }

  /** Cancels the child run of one node (or item) key, if it has one. */
  cancelChildOf(run: HotRun, nodeKey: string): void {
    const childRunId = childOf(this.host.remoteRef(run.id, nodeKey));
    if (childRunId) void this.host.cancelRun(childRunId, 'the parent run cancelled it').catch(() => {});
  }

  /** The run failed or was cancelled: after the commit, cancel every child run it started. */
  cancelChildren(b: Batch, run: HotRun): void {
    const ids = [...this.host.remoteRefsOf(run.id)].map(([, ref]) => childOf(ref)).filter((id): id is string => id !== undefined);
    if (ids.length === 0) return;
    b.later(run, () => {
      for (const id of ids) void this.host.cancelRun(id, 'the parent run ended').catch(() => {});
    });
  }
}

function waitingPrompt(childRunId: string, rec: RunRecord): string {
  const prompts = Object.entries(rec.nodes)
    .filter(([, n]) => n.status === 'waiting' || n.items !== undefined)
    .flatMap(([id, n]) => {
      const own = n.status === 'waiting' && n.prompt ? [`${id}: ${n.prompt}`] : [];
      return own;
    });
  return `waiting for child run ${childRunId}${prompts.length ? ` (${prompts.slice(0, 3).join('; ')})` : ''}`;
}
