/**
 * The runner: the shell around the pure scheduler. It feeds inputs to `decide`, turns the
 * effects into row operations, commits each tick's operations in one transaction, and only then
 * announces events, starts attempts and arms timers (commit → announce → act).
 */
import { randomUUID } from 'node:crypto';
import {
  applyInputDefaults,
  createRunState,
  DEFAULT_MAX_RECOVERIES,
  DEFAULT_MAX_WORKFLOW_DEPTH,
  decide,
  type Effect,
  type ErrorInfo,
  type EventDraft,
  type ExecutorResolver,
  type ExpressionEvaluator,
  type GateDecision,
  ITEM_STATUS,
  isTerminalRunStatus,
  keyedEvaluator,
  type RunEvent,
  type RunRecord,
  type RunStatus,
  rebuildRunState,
  type SchedulerInput,
  TrellisError,
  toErrorInfo,
} from '@trellis/core';
import { iso, itemKey, parseItemKey, type RunStore, toPersistedRunState } from '@trellis/store';
import { type Clock, systemClock } from '../clock.ts';
import type {
  Engine,
  GateDecisionOutcome,
  RetryRunRequest,
  RetryRunResult,
  RunListQuery,
  StartRunRequest,
  StartRunResult,
  SubscribeOptions,
  Subscription,
} from '../engine.ts';
import { EventHub } from '../events/hub.ts';
import { createExecutorResolver } from '../executors/registry.ts';
import { retainIdleTrim } from '../memory/idle-trim.ts';
import { PreparedCache, type PreparedWorkflow, prepareWorkflow } from '../prepared.ts';
import { sharedExpressionPool } from '../sandbox/pool.ts';
import { runTracerFromEnv } from '../tracing/from-env.ts';
import { parseTraceParent } from '../tracing/ids.ts';
import type { RunTracer } from '../tracing/run-tracer.ts';
import { type AttemptOutcome, AttemptRunner } from './attempt.ts';
import type { Batch } from './batch.ts';
import { ChildRuns, type WorkflowResolver } from './children.ts';
import { CommitQueue, HOLD_CAP_MS, HOLD_MIN_MS } from './commit-queue.ts';
import { EventsNotifier } from './events-notifier.ts';
import { HotRun, type ParentLink } from './hot-run.ts';
import { Leasing, type LeasingOptions, WAKE_CHANNEL } from './leasing.ts';
import { maxOutputBytes } from './output-cap.ts';
import { buildRetry } from './retry.ts';
import { newRunId } from './run-id.ts';
import { Subscriptions } from './subscriptions.ts';

export interface EngineLogger {
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
}

export interface EngineOptions {
  store: RunStore;
  executors?: ExecutorResolver;
  clock?: Clock;
  /** Largest node output stored, in bytes of JSON (default `TRELLIS_MAX_OUTPUT_BYTES`, else 1 MB). */
  maxOutputBytes?: number;
  /** How often waiting gates' timeouts and waiting runs' deadlines are checked (default 1000 ms). */
  pollMs?: number;
  /**
   * Resume unfinished runs on start (default true). `'deferred'`: only once `startRecovery()`
   * (or `whenReady()`) is called — a server opens its port first, so recovery never delays it.
   */
  recover?: boolean | 'deferred';
  /**
   * Poison-run quarantine: a node found in flight by this many recoveries in a row (after
   * unclean stops) fails with CRASHED instead of running again (default 3).
   */
  maxRecoveries?: number;
  workerId?: string;
  logger?: EngineLogger;
  /** Random source for jitter (tests pass a fixed one). */
  random?: () => number;
  /**
   * Several workers share the database (PostgreSQL): runs are claimed, leased, heartbeated and
   * committed through fenced commits. Without it the engine owns every run in its database.
   */
  leasing?: LeasingOptions;
  /**
   * Evaluates every expression of the definitions this engine runs. Default: the process-wide
   * sandbox pool (worker threads, limits from TRELLIS_EXPRESSION_* variables).
   */
  expressions?: ExpressionEvaluator;
  /** Resolves `workflow` node references (sub-workflows) and checks the runner role at run time. */
  workflows?: WorkflowResolver;
  /** Cap on sub-workflow nesting (default 10): a deeper child fails with WORKFLOW_DEPTH_EXCEEDED. */
  maxWorkflowDepth?: number;
  /**
   * OpenTelemetry traces of runs (docs/observability.md). Default: from the standard OTEL_*
   * variables, off unless an OTLP endpoint is set; `false`: off whatever the environment says.
   */
  tracing?: RunTracer | false;
  /**
   * Give V8's spare memory back once the process has been quiet for a few seconds after a burst
   * (one memory-reducing garbage collection; memory/idle-trim.ts). Default true; process-wide.
   */
  idleMemoryTrim?: boolean;
  /**
   * How long a commit may wait for built-in nodes still evaluating, in ms: a fixed limit. By
   * default, where the store's commits are network round trips (PostgreSQL), as long as commits
   * have lately taken, from 1 to 4 ms; 0 elsewhere. 0: never.
   */
  commitHoldMs?: number;
}

/** Node types executed by the engine itself, with no side effect outside the process. */
const PURE_NODE_TYPES: ReadonlySet<string> = new Set(['transform', 'condition', 'parallel', 'join', 'human_gate', 'map']);
const MAX_BATCH_OPS = 5000;

const quietLogger: EngineLogger = { info() {}, warn() {}, error() {} };

export class RunnerEngine implements Engine {
  readonly hub = new EventHub();
  private readonly store: RunStore;
  private readonly clock: Clock;
  private readonly logger: EngineLogger;
  private readonly random: () => number;
  private readonly hot = new Map<string, HotRun>();
  private readonly loading = new Map<string, Promise<HotRun | undefined>>();
  private readonly cache = new PreparedCache();
  private readonly attempts: AttemptRunner;
  private readonly workerId: string;
  private readonly pollMs: number;
  private readonly commits: CommitQueue;
  /** Leased engines: "new events" notifications, one per window (events-notifier.ts). */
  private readonly notifier: EventsNotifier | undefined;
  /** Counters for metrics: commits, failed commits, runs fenced out of a commit. */
  readonly commitStats = { commits: 0, failed: 0, fencedRuns: 0, recommits: 0 };
  private closed = false;
  /** Shutting down: results of running attempts are still committed, nothing new starts. */
  private stopping = false;
  private pollTimer: { cancel(): void } | undefined;
  private ready: Promise<void> | undefined;
  private readonly recovery: (() => Promise<void>) | undefined;
  private readonly maxRecoveries: number;
  /** Set while a recovered run is fed: its pure nodes, too, run only after the recovery commits. */
  private recovering = false;
  private readonly leasing: Leasing | undefined;
  private readonly subscriptions: Subscriptions;
  private readonly evaluator: ExpressionEvaluator;
  /**
   * Built-in attempts started at once (not after a commit) whose outcome is not fed yet: while
   * any is, the tick-end commit waits a little for them (see CommitQueue, `holdBack`).
   */
  private pureInFlight = 0;
  private readonly pureSettled = (): void => {
    this.pureInFlight--;
  };
  /** True while this worker holds the run in memory and it has not finished (its lease matters). */
  private readonly holds = (runId: string): boolean => {
    const run = this.hot.get(runId);
    return run !== undefined && !isTerminalRunStatus(run.state.status);
  };
  /** Starts pure work (a built-in attempt, a run's output) in a microtask, counted in `pureInFlight` until it settles. */
  private startPure(work: () => Promise<void> | undefined): void {
    this.pureInFlight++;
    queueMicrotask(() => {
      const p = work();
      if (p) void p.finally(this.pureSettled);
      else this.pureSettled();
    });
  }
  private readonly children: ChildRuns;
  private readonly maxDepth: number;
  /** Set when runs are traced; it observes the committed events through the hub. */
  readonly tracer: RunTracer | undefined;
  private readonly releaseIdleTrim: (() => void) | undefined;

  constructor(options: EngineOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? quietLogger;
    this.random = options.random ?? Math.random;
    this.workerId = options.workerId ?? `worker-${randomUUID().slice(0, 8)}`;
    this.pollMs = options.pollMs ?? 1000;
    this.subscriptions = new Subscriptions(this.hub, this.store, this.logger);
    this.evaluator = options.expressions ?? sharedExpressionPool();
    this.commits = new CommitQueue(
      (b) => this.commitBatch(b),
      (err) => this.logger.error('a commit failed', { error: toErrorInfo(err).message }),
      () => this.pureInFlight > 0,
      // Only where a commit has a fixed cost worth sharing (a network round trip).
      options.commitHoldMs ?? (this.store.remoteCommits === true ? HOLD_MIN_MS : 0),
      options.commitHoldMs ?? (this.store.remoteCommits === true ? HOLD_CAP_MS : 0),
    );
    this.maxDepth = options.maxWorkflowDepth ?? DEFAULT_MAX_WORKFLOW_DEPTH;
    this.children = new ChildRuns(
      {
        startRun: (req) => this.startRun(req),
        cancelRun: (id, reason) => this.cancelRun(id, reason),
        getRun: (id) => this.getRun(id),
        subscribe: (id, o) => this.subscribe(id, o),
        // A child resuming its parent: no diagnosis when the parent's node is not waiting (the usual case).
        decideGate: (id, key, d) =>
          this.applyDecision(id, key, d).then((ok) => (ok ? { ok: true } : { ok: false, reason: 'not_waiting' })),
        hotRun: (id) => this.hot.get(id),
        remoteRef: (id, key) => this.attempts.remoteRef(id, key),
        remoteRefsOf: (id) => this.attempts.remoteRefsOf(id),
        warn: (msg, data) => this.logger.warn(msg, data),
      },
      options.workflows,
    );
    const base = options.executors ?? createExecutorResolver();
    const childExecutor = this.children.executor;
    this.attempts = new AttemptRunner({
      executors: { resolve: (def) => (def.type === 'workflow' ? childExecutor : base.resolve(def)) },
      evaluator: this.evaluator,
      clock: this.clock,
      maxOutputBytes: maxOutputBytes(options.maxOutputBytes),
      logger: this.logger,
      saveRemoteRef: (run, nodeId, ref) => this.saveRemoteRef(run, nodeId, ref),
    });
    if (options.leasing) {
      this.leasing = new Leasing(
        options.leasing,
        this.workerId,
        this.clock,
        {
          hotIds: () => [...this.hot.keys()],
          isHot: (id) => this.hot.has(id),
          heldIds: () => [...this.hot.keys()].filter(this.holds),
          holds: this.holds,
          adopt: async (id) => {
            await this.getHot(id);
          },
          drop: (id) => this.dropRun(id),
          cancelRequested: (id) => {
            const run = this.hot.get(id);
            if (run) this.feed(run, { type: 'cancel', reason: 'cancel requested' });
          },
          woken: (id) => void this.applyStoredDecisions(id),
          remoteEvents: (id, seq) => {
            if (!this.hot.has(id)) this.subscriptions.remoteEvents(id, seq); // else published locally already
          },
          missedEvents: () => this.subscriptions.catchUp((id) => !this.hot.has(id)),
        },
        this.logger,
      );
      const leasing = this.leasing;
      this.notifier = new EventsNotifier(
        async (notifications) => {
          for (const n of notifications) await leasing.store.wake(n.channel, n.payload);
        },
        (err) => this.logger.warn('sending an events notification failed', { error: String(err) }),
      );
      this.recovery = options.recover === false ? undefined : () => leasing.start();
    } else {
      this.leasing = undefined;
      this.notifier = undefined;
      this.recovery = options.recover === false ? undefined : () => this.recoverAll();
      this.armPoll();
    }
    this.maxRecoveries = options.maxRecoveries ?? DEFAULT_MAX_RECOVERIES;
    this.tracer = options.tracing === false ? undefined : (options.tracing ?? runTracerFromEnv());
    if (this.tracer) this.traceRuns(this.tracer);
    this.releaseIdleTrim = options.idleMemoryTrim === false ? undefined : retainIdleTrim();
    if (options.recover !== 'deferred') void this.startRecovery();
  }

  /**
   * Starts start-up recovery if it has not started (with `recover: 'deferred'`); resolves once it
   * has finished. Failures to resume a run are logged, never thrown.
   */
  startRecovery(): Promise<void> {
    this.ready ??= this.recovery ? this.recovery() : Promise.resolve();
    return this.ready;
  }

  /** Resolves once start-up recovery has finished (starting it, if it was deferred). */
  whenReady(): Promise<void> {
    return this.startRecovery();
  }

  // ── public API ─────────────────────────────────────────────────────────────

  async startRun(req: StartRunRequest & { parent?: ParentLink & { depth: number } }): Promise<StartRunResult> {
    if (this.closed || this.stopping)
      throw new TrellisError('SHUTTING_DOWN', 'the engine is shutting down; retry on another instance', { retryable: true });
    if (req.parent && req.parent.depth > this.maxDepth) {
      throw new TrellisError(
        'WORKFLOW_DEPTH_EXCEEDED',
        `sub-workflows are nested more than ${this.maxDepth} levels deep (a workflow that calls itself through others?)`,
        { category: 'user' },
      );
    }
    const prepared = await this.prepared(req.workflowId, req.version);
    // inputSchema defaults, applied here for every way a run starts (API, console, CLI, triggers).
    const input = applyInputDefaults(prepared.definition.inputSchema, req.input);
    const problems = prepared.validateInput(input);
    if (problems.length > 0) {
      throw new TrellisError('INPUT_INVALID', `the run input does not match the workflow's inputSchema: ${problems.join('; ')}`, {
        category: 'user',
        details: problems,
      });
    }
    const now = this.clock.now();
    const id = newRunId();
    const timeoutMs = prepared.definition.settings?.timeoutMs;
    const traceParent = req.traceParent === undefined ? undefined : parseTraceParent(req.traceParent);
    const queued: RunEvent = {
      seq: 1,
      runId: id,
      type: 'run.queued',
      at: iso(now),
      data: { workflowId: req.workflowId, version: req.version },
    };
    const { runId, created } = await this.store.createRun({
      id,
      workflowId: req.workflowId,
      version: req.version,
      input: input ?? null,
      createdBy: req.createdBy ?? null,
      createdAt: now,
      deadlineAt: timeoutMs === undefined ? null : now + timeoutMs,
      claim: this.creatorClaim(now),
      parent: req.parent,
      traceParent,
      nodeIds: prepared.compiled.nodes.map((n) => n.id),
      events: [queued],
      idempotency: req.idempotencyKey === undefined ? undefined : { scope: req.workflowId, key: req.idempotencyKey },
    });
    if (!created) {
      const status = (await this.store.getRunStatus(runId)) ?? 'queued';
      return { runId, status, created: false };
    }
    if (this.leasing && !this.leasing.execute) {
      this.hub.publish(queued);
      await this.leasing.wakeForNewRuns();
      return { runId: id, status: 'queued', created: true };
    }
    const run = new HotRun(id, prepared, createRunState(id, prepared.compiled), 1, input ?? null);
    run.workflowId = req.workflowId;
    run.createdBy = req.createdBy ?? null;
    run.traceParent = traceParent;
    if (req.parent) {
      run.parent = { runId: req.parent.runId, nodeKey: req.parent.nodeKey };
      run.depth = req.parent.depth;
    }
    // Held before `run.queued` is announced, so the tracer sees the run (and its caller) at once.
    this.hot.set(id, run);
    this.hub.publish(queued);
    if (timeoutMs !== undefined) this.armDeadline(run, now + timeoutMs);
    if (req.holdUntil) {
      const hold = req.holdUntil;
      void hold.then(
        () => this.feed(run, { type: 'start' }),
        () => this.feed(run, { type: 'start' }),
      );
    } else this.feed(run, { type: 'start' });
    return { runId: id, status: 'queued', created: true };
  }

  async retryRun(req: RetryRunRequest): Promise<RetryRunResult> {
    if (this.closed || this.stopping)
      throw new TrellisError('SHUTTING_DOWN', 'the engine is shutting down; retry on another instance', { retryable: true });
    await this.flushNow();
    const original = await this.store.readPastRun(req.runId);
    if (!original) throw new TrellisError('RUN_NOT_FOUND', `no run ${req.runId}`, { category: 'user' });
    const originalPrepared = await this.prepared(original.workflowId, original.version);
    const workflowId = req.scratch?.workflowId ?? original.workflowId;
    const version = req.scratch?.version ?? req.latestVersion ?? original.version;
    const target =
      req.scratch === undefined && version === original.version ? originalPrepared : await this.prepared(workflowId, version);
    const now = this.clock.now();
    const id = newRunId();
    const built = await buildRetry({
      newRunId: id,
      at: iso(now),
      original,
      originalPrepared,
      target,
      targetVersion: version,
      from: req.from,
      versionMode: req.latestVersion === undefined && req.scratch === undefined ? 'same' : 'latest',
      evaluator: this.evaluator,
      ...(req.scratch === undefined ? {} : { scratchWorkflowId: workflowId }),
    });
    const timeoutMs = target.definition.settings?.timeoutMs;
    const { runId, created } = await this.store.createRun({
      id,
      workflowId,
      version,
      input: original.input,
      createdBy: req.createdBy ?? null,
      createdAt: now,
      deadlineAt: timeoutMs === undefined ? null : now + timeoutMs,
      claim: this.creatorClaim(now),
      nodeIds: [],
      events: built.events,
      retry: built.retry,
      idempotency: req.idempotencyKey === undefined ? undefined : { scope: `retry:${original.id}`, key: req.idempotencyKey },
    });
    const summary = { retryOf: original.id, reused: built.plan.reused, costSavedUsd: built.plan.costSavedUsd };
    if (!created) {
      const status = (await this.store.getRunStatus(runId)) ?? 'queued';
      return { runId, status, created: false, ...summary };
    }
    for (const e of built.events) this.hub.publish(e);
    if (this.leasing && !this.leasing.execute) {
      await this.leasing.wakeForNewRuns();
      return { runId: id, status: 'queued', created: true, ...summary };
    }
    const state = rebuildRunState(id, target.compiled, { status: 'queued', costUsd: 0, nodes: built.persisted });
    const run = new HotRun(id, target, state, built.events.length, original.input);
    run.workflowId = workflowId;
    run.createdBy = req.createdBy ?? null;
    this.hot.set(id, run);
    if (timeoutMs !== undefined) this.armDeadline(run, now + timeoutMs);
    this.feed(run, { type: 'start' });
    return { runId: id, status: 'queued', created: true, ...summary };
  }

  /**
   * Who holds a run this process creates: this worker (it executes the run), with a lease when
   * several workers share the database — unless this process executes nothing, which leaves the
   * run to the workers.
   */
  private creatorClaim(now: number): { workerId: string; leaseExpiresAt: number | null } | null {
    if (!this.leasing) return { workerId: this.workerId, leaseExpiresAt: null };
    return this.leasing.execute ? { workerId: this.workerId, leaseExpiresAt: now + this.leasing.leaseMs } : null;
  }

  async cancelRun(runId: string, reason?: string): Promise<{ status: RunStatus } | undefined> {
    if (this.leasing && !this.hot.has(runId)) {
      // Another worker may hold it: mark it and notify; its owner (or the next claimer) cancels.
      await this.leasing.store.requestCancel(runId);
      const status = await this.store.getRunStatus(runId);
      return status === undefined ? undefined : { status };
    }
    const run = await this.getHot(runId);
    if (!run) {
      const status = await this.store.getRunStatus(runId);
      return status === undefined ? undefined : { status };
    }
    this.feed(run, reason === undefined ? { type: 'cancel' } : { type: 'cancel', reason });
    await this.flushNow();
    return { status: run.state.status };
  }

  async decideGate(runId: string, nodeId: string, decision: GateDecision, item?: number): Promise<GateDecisionOutcome> {
    // `nodeId` may already be an item's key (`<node>[<item>]`), as child runs address their parent.
    const key = item === undefined ? nodeId : itemKey(nodeId, item);
    if (await this.applyDecision(runId, key, decision)) return { ok: true };
    const rec = await this.store.loadRun(runId);
    if (!rec) return { ok: false, reason: 'run_not_found' };
    const parsed = parseItemKey(key);
    if (parsed ? !rec.items.get(parsed.nodeId)?.some((i) => i.index === parsed.item) : !rec.nodes.has(key)) {
      if (parsed && rec.nodes.has(parsed.nodeId)) return { ok: false, reason: 'not_waiting' };
      return { ok: false, reason: 'node_not_found' };
    }
    return { ok: false, reason: 'not_waiting' };
  }

  /**
   * Records a decision for a waiting node (or item) key and wakes its run; false (and nothing
   * else done) when the node was not waiting or already decided.
   */
  private async applyDecision(runId: string, key: string, decision: GateDecision): Promise<boolean> {
    const won = await this.store.recordDecision(runId, key, decision);
    if (!won) return false;
    if (this.leasing && !this.hot.has(runId)) {
      // Recorded durably; whichever worker holds or claims the run applies it.
      await this.leasing.store.wake(WAKE_CHANNEL, runId);
      return true;
    }
    const run = await this.getHot(runId);
    if (run) {
      const target = nodeOfKey(run, key);
      if (target) this.feed(run, { type: 'gate.decided', node: target.node, item: target.item, decision });
      await this.flushNow();
    }
    return true;
  }

  getRun(runId: string): Promise<RunRecord | undefined> {
    return this.store.getRunRecord(runId);
  }

  listRuns(query: RunListQuery) {
    return this.store.listRuns(query);
  }

  listEvents(runId: string, after: number, limit = 1000): Promise<RunEvent[]> {
    return this.store.readEvents(runId, after, limit);
  }

  subscribe(runId: string, options: SubscribeOptions): Subscription {
    return this.subscriptions.subscribe(runId, options);
  }

  async waitForRun(runId: string, options: { orWaiting?: boolean } = {}): Promise<RunRecord> {
    // Only whether the run exists: the record is read once, when the wait is over.
    if ((await this.store.getRunStatus(runId)) === undefined) {
      throw new TrellisError('RUN_NOT_FOUND', `no run ${runId}`, { category: 'user' });
    }
    await new Promise<void>((resolve, reject) => {
      const sub = this.subscribe(runId, {
        after: 0,
        onEvent: (e) => {
          if (options.orWaiting && e.type === 'run.waiting') {
            sub.close();
            resolve();
          }
        },
        onEnd: resolve,
        onError: (error) => reject(TrellisError.fromInfo(error)),
      });
    });
    await this.flushNow();
    return (await this.store.getRunRecord(runId))!;
  }

  async shutdown(graceMs = 10_000): Promise<void> {
    if (this.closed || this.stopping) return;
    // Stop taking work: no new runs, no new attempts, no timers. Attempts already running get
    // `graceMs` to finish, and their results are committed as usual.
    this.stopping = true;
    this.pollTimer?.cancel();
    this.releaseIdleTrim?.();
    await this.leasing?.stop();
    for (const run of this.hot.values()) run.clearTimers();
    const deadline = Date.now() + graceMs;
    while (this.attempts.active > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    // Attempts still in flight are left by a clean shutdown: the next recovery resumes them
    // without counting this stop towards the crash-loop quarantine.
    for (const run of this.hot.values()) {
      run.state.nodes.forEach((n, i) => {
        if (n.status !== 'running') return;
        n.interrupted = true;
        this.batch.patch({
          op: 'node.patch',
          runId: run.id,
          nodeId: run.prepared.compiled.nodes[i]!.id,
          patch: { interrupted: true },
        });
      });
    }
    await this.flushNow().catch(() => {});
    await this.notifier?.flush();
    this.closed = true;
    // Export the spans buffered so far (a run still open is continued by whoever resumes it).
    await this.tracer?.shutdown().catch((err) => this.logger.warn('flushing traces failed', { error: String(err) }));
    // What is still running stays `running` in the database; the next start (or, with several
    // workers, another worker once the lease is given back) resumes it.
    for (const id of this.hot.keys()) this.leasing?.release(id);
    this.hot.clear();
  }

  /** Feeds the tracer every event this process commits, with what it knows of the run. */
  private traceRuns(tracer: RunTracer): void {
    this.hub.onAll((event) => {
      const run = this.hot.get(event.runId);
      if (!run) return tracer.handle(event, undefined);
      const key = run.prepared.key;
      const at = key.lastIndexOf('@');
      const compiled = run.prepared.compiled;
      tracer.handle(event, {
        workflowId: run.workflowId || key.slice(0, at),
        workflowName: run.prepared.definition.name,
        version: Number(key.slice(at + 1)),
        ...(run.traceParent === undefined ? {} : { traceParent: run.traceParent }),
        node: (id) => {
          const i = compiled.indexById.get(id);
          return i === undefined ? undefined : compiled.nodes[i]?.def;
        },
      });
    });
  }

  /** Runs this worker holds in memory (for metrics and tests). */
  get hotRuns(): number {
    return this.hot.size;
  }

  // ── feeding the scheduler ──────────────────────────────────────────────────

  private feed(run: HotRun, input: SchedulerInput): void {
    // A run object that is no longer the hot one (evicted, finished) must not act: a fresh one
    // is rebuilt from rows when the run is woken.
    if (this.closed || this.hot.get(run.id) !== run) return;
    // One clock reading for the decision and its rows: an event's `at` and the timestamps the
    // patches carry (a run's or attempt's startedAt/finishedAt) are then the same instant.
    const now = this.clock.now();
    const effects = decide(run.state, input, now);
    this.carryOut(run, effects, now);
  }

  private carryOut(run: HotRun, effects: Effect[], now = this.clock.now()): void {
    const b = this.batch;
    let at: string | undefined; // the events' time, formatted once per call
    const nodes = run.prepared.compiled.nodes;
    for (const fx of effects) {
      switch (fx.type) {
        case 'event': {
          const seq = ++run.lastSeq;
          at ??= new Date(now).toISOString();
          const ev = toEvent(run.id, seq, at, fx.event);
          b.push({ op: 'run.event', event: ev });
          b.events.push(ev);
          break;
        }
        case 'node.patch':
          b.patch({ op: 'node.patch', runId: run.id, nodeId: nodes[fx.node]!.id, item: fx.item, patch: fx.patch });
          break;
        case 'run.patch':
          b.patch({ op: 'run.patch', runId: run.id, patch: fx.patch });
          // A child run that moves on (out of waiting, or to its end) resumes its waiting parent.
          if (run.parent && fx.patch.status !== undefined && fx.patch.status !== 'waiting') {
            const parent = run.parent;
            b.later(run, () => this.children.notifyParent(parent));
          }
          break;
        case 'attempt.start': {
          b.push({
            op: 'attempt.start',
            runId: run.id,
            nodeId: nodes[fx.node]!.id,
            item: fx.item,
            attempt: fx.attempt,
            at: now,
            workerId: this.workerId,
          });
          const { node, attempt, item } = fx;
          // Built-in nodes are pure functions of committed-or-committing outputs, with no side
          // effect outside this process: they run at once, and their start commits together
          // with their result. Nodes that reach outside (tools, agents, child runs) run only
          // after their claim (the attempt row) has committed. A batch grown past MAX_BATCH_OPS
          // holds its pure nodes back until it has committed: a long chain of them cannot grow
          // one batch without bound, and it waits for the database instead of racing ahead of it.
          const type = item === undefined ? nodes[node]!.type : nodes[node]!.map!.body.type;
          if (PURE_NODE_TYPES.has(type) && !this.recovering && b.ops.length <= MAX_BATCH_OPS)
            this.startPure(() => this.execute(run, node, attempt, undefined, item));
          else {
            b.awaited = true;
            b.later(run, () => this.execute(run, node, attempt, undefined, item));
          }
          break;
        }
        case 'attempt.resume': {
          const { node, attempt, decision, item } = fx;
          b.awaited = true;
          b.later(run, () => this.execute(run, node, attempt, decision, item));
          break;
        }
        case 'attempt.finish':
          b.push({
            op: 'attempt.end',
            runId: run.id,
            nodeId: nodes[fx.node]!.id,
            item: fx.item,
            attempt: fx.attempt,
            end: { status: fx.status, at: now, error: fx.error, cost: fx.cost, leaseLost: fx.leaseLost },
          });
          break;
        case 'attempt.abort': {
          const { node, attempt, error, item } = fx;
          // A cancelled attempt never settles: its input, if resolved, is recorded now.
          const flying = run.inflight.get(item === undefined ? node : `${node}:${item}`);
          if (flying?.attempt === attempt && flying.input !== undefined)
            b.patch({ op: 'node.patch', runId: run.id, nodeId: nodes[node]!.id, item, patch: { input: flying.input } });
          b.later(run, () => {
            const flightKey = item === undefined ? node : `${node}:${item}`;
            const f = run.inflight.get(flightKey);
            if (f && f.attempt === attempt) {
              run.inflight.delete(flightKey);
              f.controller.abort(TrellisError.fromInfo({ code: error.code, message: error.message }, { retryable: false }));
            } else {
              // Waiting work has no attempt in flight: an agent's task or a child run is cancelled remotely.
              this.attempts.cancelWaiting(run, node, attempt, error.message, item);
              this.children.cancelChildOf(run, item === undefined ? nodes[node]!.id : itemKey(nodes[node]!.id, item));
            }
          });
          break;
        }
        case 'timer.set': {
          const { node, kind, dueAt, item } = fx;
          b.later(run, () => {
            const timerKey = item === undefined ? `${kind}:${node}` : `${kind}:${node}:${item}`;
            run.timers.get(timerKey)?.cancel();
            run.timers.set(
              timerKey,
              this.clock.setTimeout(() => {
                run.timers.delete(timerKey);
                this.feed(run, { type: 'timer.fired', node, kind, item });
              }, dueAt - this.clock.now()),
            );
          });
          break;
        }
        case 'timer.clear': {
          const timerKey = fx.item === undefined ? `${fx.kind}:${fx.node}` : `${fx.kind}:${fx.node}:${fx.item}`;
          run.timers.get(timerKey)?.cancel();
          run.timers.delete(timerKey);
          break;
        }
        case 'map.finish': {
          const { node, attempt, result } = fx;
          run.mapItems.delete(node);
          queueMicrotask(() => void this.finishMap(run, node, attempt, result));
          break;
        }
        case 'output.resolve':
          // Pure, like a built-in node: resolved at once, its result commits with the nodes' own.
          this.startPure(() => (this.hot.get(run.id) === run && !this.closed ? this.resolveOutput(run) : undefined));
          break;
        case 'run.finished':
          if (fx.status !== 'succeeded' && run.prepared.hasChildRuns) this.children.cancelChildren(b, run);
          // The lease is given back in the run's last commit (no extra round trip, and no
          // window in which a finished run still looks held).
          if (this.leasing) b.patch({ op: 'run.patch', runId: run.id, patch: { releaseLease: true } });
          b.later(run, () => {
            run.clearTimers();
            for (const f of run.inflight.values()) f.controller.abort(new TrellisError('CANCELLED', 'the run has finished'));
            run.inflight.clear();
            this.hot.delete(run.id);
            this.attempts.forgetRun(run.id);
          });
          break;
        default: {
          const never: never = fx;
          throw new Error(`unhandled effect ${JSON.stringify(never)}`);
        }
      }
    }
    b.touched.add(run);
    this.scheduleFlush();
  }

  /** The open batch (see CommitQueue). */
  private get batch(): Batch {
    return this.commits.batch;
  }

  private scheduleFlush(): void {
    this.commits.schedule();
  }

  /**
   * Resolves once every transition decided so far has committed and been announced. Commits
   * are strictly ordered: this waits for a commit in flight, then commits what accumulated.
   */
  flushNow(): Promise<void> {
    return this.commits.flush();
  }

  /** Commits one closed batch, then announces its events and carries out its actions. */
  private async commitBatch(b: Batch): Promise<void> {
    this.commitStats.commits++;
    if (this.leasing) {
      if (!(await this.commitLeased(b))) return;
    } else {
      try {
        await this.store.commit(b.ops);
      } catch (err) {
        // A failed commit means we no longer know what is durable: stop, and let recovery decide.
        this.commitStats.failed++;
        this.logger.error('commit failed; the engine stops and will recover on restart', { error: toErrorInfo(err).message });
        this.closed = true;
        throw err;
      }
    }
    for (const e of b.events) this.hub.publish(e);
    for (const { run, act } of b.after) if (!this.leasing || this.hot.get(run.id) === run) act();
    // Evict runs that only wait for people: they live in the database until woken.
    for (const run of b.touched) {
      if (run.state.status === 'waiting' && run.idle && this.hot.get(run.id) === run) {
        run.clearTimers();
        this.hot.delete(run.id);
        this.attempts.forgetRun(run.id);
        this.leasing?.release(run.id);
      }
    }
  }

  /**
   * Fenced commit for shared databases. Writes of runs this worker no longer holds in memory
   * are discarded first. A batch that fails its fence is never dropped silently: it is logged
   * and counted, and
   * - when the lease had only expired (this process was late to heartbeat) and nobody claimed
   *   the run since, renewing takes it back and the same batch commits again;
   * - when another worker holds a run now, that run's work is discarded and the run forgotten
   *   here: its owner rebuilds it from the database (what committed, in order); the rest of the
   *   batch commits.
   * A database that cannot be reached drops every run of the batch from memory; their leases
   * expire and they are reclaimed, rebuilt from what did commit. Returns false when nothing of
   * the batch committed.
   */
  private async commitLeased(b: Batch, renewed = false): Promise<boolean> {
    const leasing = this.leasing!;
    const stale = new Set<string>();
    for (const id of b.runIds()) if (!this.hot.has(id)) stale.add(id);
    b.forget(stale);
    if (b.empty) return true;
    // Each run with new events and its newest seq (one pass over events), in one notification.
    const newest = new Map<string, number>();
    for (const e of b.events) newest.set(e.runId, e.seq);
    const notify = this.notifier!.take(newest);
    try {
      await leasing.store.commitFenced(this.workerId, b.ops, notify);
      this.notifier!.settle(newest, notify, true);
      return true;
    } catch (err) {
      this.notifier!.settle(newest, notify, false);
      const info = toErrorInfo(err);
      this.commitStats.failed++;
      const ids = [...b.runIds()];
      if (info.code === 'LEASE_LOST') {
        const lost = new Set(await leasing.store.renewLeases(this.workerId, ids, leasing.leaseMs).catch(() => ids));
        if (lost.size === 0 && !renewed) {
          this.commitStats.recommits++;
          this.logger.warn('commit fenced: lease had expired but nobody claimed the runs; renewed, committing again', {
            runIds: ids,
          });
          return this.commitLeased(b, true);
        }
        const gone = lost.size === 0 ? new Set(ids) : lost;
        this.commitStats.fencedRuns += gone.size;
        this.logger.warn('commit fenced: another worker holds these runs now; their uncommitted work is discarded', {
          runIds: [...gone],
          error: info.message,
        });
        for (const id of gone) this.dropRun(id);
        b.forget(gone);
        if (b.empty) return false;
        return this.commitLeased(b, renewed);
      }
      this.logger.error('commit failed; the batch runs are dropped from memory and will be reclaimed from the database', {
        runIds: ids,
        error: info.message,
      });
      for (const id of ids) this.dropRun(id);
      return false;
    }
  }

  /** Forgets a run this worker no longer holds: aborts its attempts, writes nothing. */
  private dropRun(runId: string): void {
    // What it decided and has not committed yet no longer follows from what did commit.
    this.commits.forget(new Set([runId]));
    const run = this.hot.get(runId);
    if (!run) return;
    this.hot.delete(runId);
    this.attempts.forgetRun(runId);
    run.clearTimers();
    for (const f of run.inflight.values())
      f.controller.abort(new TrellisError('LEASE_LOST', 'this worker no longer holds the run'));
    run.inflight.clear();
  }

  /** Applies what other servers recorded for a run this worker holds: gate decisions, a cancel. */
  private async applyStoredDecisions(runId: string): Promise<void> {
    const run = this.hot.get(runId);
    if (!run) return;
    const loaded = await this.store.loadRun(runId);
    if (!loaded || this.hot.get(runId) !== run) return;
    if (loaded.cancelRequested) this.feed(run, { type: 'cancel', reason: 'cancel requested' });
    const indexById = run.prepared.compiled.indexById;
    for (const [nodeId, r] of loaded.nodes) {
      const node = indexById.get(nodeId);
      if (node !== undefined && r.status === 'waiting' && r.decision)
        this.feed(run, { type: 'gate.decided', node, item: undefined, decision: r.decision });
    }
    for (const [nodeId, items] of loaded.items) {
      const node = indexById.get(nodeId);
      if (node === undefined) continue;
      for (const { index, node: r } of items)
        if (r.status === 'waiting' && r.decision)
          this.feed(run, { type: 'gate.decided', node, item: index, decision: r.decision });
    }
  }

  // ── attempts ───────────────────────────────────────────────────────────────

  /** Runs an attempt; the promise settles once its outcome has been fed (undefined: nothing started). */
  private execute(
    run: HotRun,
    node: number,
    attempt: number,
    decision: GateDecision | undefined,
    item?: number,
  ): Promise<void> | undefined {
    // While stopping, a newly started attempt stays `running` in the database; the next start
    // (or another worker) takes it over as a new attempt.
    if (this.closed || this.stopping || this.hot.get(run.id) !== run) return undefined;
    if (item !== undefined)
      return this.attempts.run(run, node, attempt, decision, item).then((o) => this.settleItem(run, node, item, attempt, o));
    if (run.prepared.compiled.nodes[node]!.map) return this.expandMap(run, node, attempt);
    return this.attempts.run(run, node, attempt, decision).then((outcome) => this.settleAttempt(run, node, attempt, outcome));
  }

  // ── map nodes ──────────────────────────────────────────────────────────────

  /** A map node's attempt: resolve `items`; its items then start (see scheduler/map.ts). */
  private async expandMap(run: HotRun, node: number, attempt: number): Promise<void> {
    const cnode = run.prepared.compiled.nodes[node]!;
    const current = () => {
      const ns = run.state.nodes[node];
      return this.hot.get(run.id) === run && ns !== undefined && ns.attempt === attempt && ns.status === 'running';
    };
    try {
      const items = await this.resolveItems(run, node);
      if (!current()) return;
      run.mapItems.set(node, items);
      run.mapStarted.set(node, this.clock.now());
      this.feed(run, { type: 'map.expanded', node, attempt, count: items.length });
    } catch (err) {
      if (!current()) return;
      const error = toErrorInfo(err);
      let taken: number[] | undefined;
      if (cnode.onError === 'continue') {
        const output = { error: { code: error.code, message: error.message } };
        run.state.nodes[node]!.output = output;
        taken = await this.attempts.takenEdges(run, node, output).catch(() => []);
      }
      this.feed(run, { type: 'attempt.failed', node, attempt, error, taken, random: this.random() });
    }
  }

  /** Resolves a map node's `items` binding: an array of at most `maxItems` items. */
  private async resolveItems(run: HotRun, node: number): Promise<unknown[]> {
    const cnode = run.prepared.compiled.nodes[node]!;
    const items = await run.prepared.items[node]!.resolve(
      run.scopeFor(run.prepared.references[node]!),
      keyedEvaluator(this.evaluator, run.id),
    );
    if (!Array.isArray(items)) {
      const got = items === null || items === undefined ? 'null' : typeof items;
      throw new TrellisError('MAP_ITEMS_NOT_ARRAY', `"items" of map '${cnode.id}' resolved to ${got}, not an array`, {
        category: 'user',
      });
    }
    const max = cnode.map!.maxItems;
    if (items.length > max) {
      throw new TrellisError(
        'MAP_TOO_MANY_ITEMS',
        `"items" of map '${cnode.id}' has ${items.length} items, over maxItems ${max}; raise maxItems or split the input`,
        { category: 'user', details: { count: items.length, maxItems: max } },
      );
    }
    return items;
  }

  private settleItem(run: HotRun, node: number, item: number, attempt: number, o: AttemptOutcome): void {
    if (this.hot.get(run.id) !== run) return;
    const flightKey = `${node}:${item}`;
    const f = run.inflight.get(flightKey);
    if (f && f.attempt === attempt) run.inflight.delete(flightKey);
    const map = run.state.nodes[node]?.map;
    if (!map || map.finishing || map.attempt[item] !== attempt || map.status[item] !== ITEM_STATUS.running) return;
    const cnode = run.prepared.compiled.nodes[node]!;
    if (o.input !== undefined)
      this.batch.patch({ op: 'node.patch', runId: run.id, nodeId: cnode.id, item, patch: { input: o.input } });
    switch (o.kind) {
      case 'succeeded':
        return this.feed(run, {
          type: 'attempt.succeeded',
          node,
          item,
          attempt,
          output: o.output,
          cost: o.cost,
          durationMs: o.durationMs,
          taken: [],
        });
      case 'waiting': {
        const body = cnode.map!.body;
        const timeout = body.type === 'human_gate' ? body.timeoutMs : undefined;
        this.feed(run, {
          type: 'attempt.waiting',
          node,
          item,
          attempt,
          prompt: o.prompt,
          waitUntil: timeout === undefined ? null : this.clock.now() + timeout,
        });
        if (body.type === 'workflow') this.batch.later(run, () => void this.children.parentWaiting(run, itemKey(cnode.id, item)));
        return;
      }
      case 'failed':
        return this.feed(run, {
          type: 'attempt.failed',
          node,
          item,
          attempt,
          error: o.error,
          cost: o.cost,
          random: this.random(),
        });
      default: {
        const never: never = o;
        throw new Error(`unhandled outcome ${JSON.stringify(never)}`);
      }
    }
  }

  /** A map's result is decided: evaluate its outgoing edges and resolve its own attempt. */
  private async finishMap(
    run: HotRun,
    node: number,
    attempt: number,
    result: { kind: 'succeeded'; output: unknown } | { kind: 'failed'; error: ErrorInfo },
  ): Promise<void> {
    if (this.hot.get(run.id) !== run) return;
    const cnode = run.prepared.compiled.nodes[node]!;
    const ns = run.state.nodes[node]!;
    const durationMs = this.clock.now() - (run.mapStarted.get(node) ?? this.clock.now());
    run.mapStarted.delete(node);
    let error: ErrorInfo | undefined = result.kind === 'failed' ? result.error : undefined;
    if (result.kind === 'succeeded') {
      ns.output = result.output; // visible to the map's own edge conditions
      try {
        const taken = await this.attempts.takenEdges(run, node, result.output);
        if (this.hot.get(run.id) !== run) return;
        this.feed(run, { type: 'attempt.succeeded', node, attempt, output: result.output, durationMs, taken });
        return;
      } catch (err) {
        error = toErrorInfo(err);
      }
    }
    let taken: number[] | undefined;
    if (cnode.onError === 'continue') {
      const output = { error: { code: error!.code, message: error!.message } };
      ns.output = output;
      taken = await this.attempts.takenEdges(run, node, output).catch(() => []);
    }
    if (this.hot.get(run.id) !== run) return;
    this.feed(run, {
      type: 'attempt.failed',
      node,
      attempt,
      error: { ...error!, retryable: false },
      taken,
      random: this.random(),
    });
  }

  private settleAttempt(run: HotRun, node: number, attempt: number, o: AttemptOutcome): void {
    if (this.hot.get(run.id) !== run) return; // dropped (lease lost) or finished meanwhile
    const f = run.inflight.get(node);
    if (f && f.attempt === attempt) run.inflight.delete(node);
    const ns = run.state.nodes[node];
    if (!ns || ns.attempt !== attempt || ns.status !== 'running') return; // fenced: a newer attempt or the run moved on
    if (o.input !== undefined) {
      this.batch.patch({
        op: 'node.patch',
        runId: run.id,
        nodeId: run.prepared.compiled.nodes[node]!.id,
        patch: { input: o.input },
      });
    }
    switch (o.kind) {
      case 'succeeded':
        return this.feed(run, {
          type: 'attempt.succeeded',
          node,
          attempt,
          output: o.output,
          cost: o.cost,
          durationMs: o.durationMs,
          taken: o.taken,
        });
      case 'waiting': {
        const def = run.prepared.compiled.nodes[node]!.def;
        const timeout = def.type === 'human_gate' ? def.timeoutMs : undefined;
        this.feed(run, {
          type: 'attempt.waiting',
          node,
          attempt,
          prompt: o.prompt,
          waitUntil: timeout === undefined ? null : this.clock.now() + timeout,
        });
        if (def.type === 'workflow') this.batch.later(run, () => void this.children.parentWaiting(run, def.id));
        return;
      }
      case 'failed':
        return this.feed(run, {
          type: 'attempt.failed',
          node,
          attempt,
          error: o.error,
          cost: o.cost,
          taken: o.taken,
          random: this.random(),
        });
      default: {
        const never: never = o;
        throw new Error(`unhandled outcome ${JSON.stringify(never)}`);
      }
    }
  }

  private async saveRemoteRef(run: HotRun, nodeId: string, ref: unknown): Promise<void> {
    const k = parseItemKey(nodeId);
    this.batch.patch({
      op: 'node.patch',
      runId: run.id,
      nodeId: k ? k.nodeId : nodeId,
      item: k?.item,
      patch: { remoteRef: ref },
    });
    this.scheduleFlush();
    await this.flushNow();
  }

  private async resolveOutput(run: HotRun): Promise<void> {
    const { prepared } = run;
    try {
      let output: unknown;
      if (prepared.output)
        output = await prepared.output.resolve(run.scopeFor(prepared.outputVariables), keyedEvaluator(this.evaluator, run.id));
      else {
        const o: Record<string, unknown> = {};
        for (const s of prepared.compiled.sinks) {
          const n = prepared.compiled.nodes[s]!;
          o[n.id] = run.state.nodes[s]!.output ?? null;
        }
        output = o;
      }
      this.feed(run, { type: 'output.resolved', output: output === undefined ? null : output });
    } catch (err) {
      this.feed(run, {
        type: 'output.failed',
        error: { ...toErrorInfo(err), message: `the run's output bindings failed: ${toErrorInfo(err).message}` },
      });
    }
  }

  /**
   * Compiles a workflow version into the prepared cache ahead of its runs (the schedule loop does
   * this for the ticks due soon, so a tick pays no compile). Throws as `startRun` would for a
   * version that does not exist.
   */
  async prepare(workflowId: string, version: number): Promise<void> {
    await this.prepared(workflowId, version);
  }

  // ── loading, recovery, timers ──────────────────────────────────────────────

  private async prepared(workflowId: string, version: number): Promise<PreparedWorkflow> {
    const key = `${workflowId}@${version}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const definition = await this.store.getDefinition(workflowId, version);
    if (definition === undefined)
      throw new TrellisError('WORKFLOW_NOT_FOUND', `workflow ${workflowId} has no version ${version}`, { category: 'user' });
    const p = prepareWorkflow(key, definition);
    this.cache.set(p);
    return p;
  }

  /** The run in memory, loading (rebuilding) it from rows if it was evicted. */
  private async getHot(runId: string): Promise<HotRun | undefined> {
    const hit = this.hot.get(runId);
    if (hit) return hit;
    let p = this.loading.get(runId);
    if (!p) {
      p = this.load(runId).finally(() => this.loading.delete(runId));
      this.loading.set(runId, p);
    }
    return p;
  }

  private async load(runId: string): Promise<HotRun | undefined> {
    await this.flushNow();
    const loaded = await this.store.loadRun(runId);
    if (!loaded) return undefined;
    if (isTerminalRunStatus(loaded.status)) return undefined;
    const prepared = await this.prepared(loaded.workflowId, loaded.version);
    const state = rebuildRunState(runId, prepared.compiled, toPersistedRunState(loaded, prepared.compiled));
    const existing = this.hot.get(runId);
    if (existing) return existing;
    const run = new HotRun(runId, prepared, state, loaded.lastSeq, loaded.input);
    run.workflowId = loaded.workflowId;
    run.createdBy = loaded.createdBy;
    run.depth = loaded.depth;
    if (loaded.parent) run.parent = loaded.parent;
    run.traceParent = loaded.traceParent;
    // Running maps: their items are re-resolved from the (final) outputs of the nodes upstream.
    for (const i of state.maps) {
      try {
        run.mapItems.set(i, await this.resolveItems(run, i));
      } catch (err) {
        this.logger.warn('a running map could not resolve its items again', { runId, error: toErrorInfo(err).message });
      }
      run.mapStarted.set(i, this.clock.now());
    }
    if (this.hot.get(runId)) return this.hot.get(runId);
    this.hot.set(runId, run);
    if (loaded.deadlineAt !== null) this.armDeadline(run, loaded.deadlineAt);
    // Each node's stored state, with the items of a map node.
    const stored = (cn: { id: string }) => [
      { item: undefined as number | undefined, r: loaded.nodes.get(cn.id) },
      ...(loaded.items.get(cn.id) ?? []).map(({ index, node }) => ({ item: index as number | undefined, r: node })),
    ];
    // Re-arm backoff timers from their stored due times: a restart keeps the schedule.
    for (const cn of prepared.compiled.nodes) {
      for (const { item, r } of stored(cn)) {
        if (r?.status !== 'retrying') continue;
        const dueAt = r.nextAttemptAt ?? this.clock.now();
        this.carryOut(run, [{ type: 'timer.set', node: cn.index, item, kind: 'retry', dueAt }]);
      }
    }
    // A node that may have killed the process runs again only once its recovery count is durable.
    // A queued run has run nothing yet: its built-in nodes start at once, as in the process that
    // started it.
    this.recovering = loaded.status !== 'queued';
    try {
      this.feed(run, { type: 'recover', maxRecoveries: this.maxRecoveries });
    } finally {
      this.recovering = false;
    }
    if (loaded.cancelRequested) this.feed(run, { type: 'cancel', reason: 'cancel requested' });
    // A claimed run with nothing to do right now is evicted again by the next flush.
    this.batch.touched.add(run);
    this.scheduleFlush();
    // Decisions recorded while no worker held the run (or before a crash) are applied now.
    for (const cn of prepared.compiled.nodes) {
      for (const { item, r } of stored(cn)) {
        if (r?.remoteRef !== undefined)
          this.attempts.setRemoteRef(runId, item === undefined ? cn.id : itemKey(cn.id, item), r.remoteRef);
        if (r?.status === 'waiting' && r.decision)
          this.feed(run, { type: 'gate.decided', node: cn.index, item, decision: r.decision });
        else if (r?.status === 'waiting' && r.waitUntil !== null) {
          this.carryOut(run, [{ type: 'timer.set', node: cn.index, item, kind: 'gate_timeout', dueAt: r.waitUntil }]);
        }
      }
    }
    return run;
  }

  private async recoverAll(): Promise<void> {
    const ids = await this.store.listResumable();
    for (const id of ids) {
      try {
        await this.getHot(id);
      } catch (err) {
        this.logger.error('could not resume run', { runId: id, error: toErrorInfo(err).message });
      }
    }
    if (ids.length > 0) this.logger.info('resumed unfinished runs', { count: ids.length });
  }

  private armDeadline(run: HotRun, at: number): void {
    run.deadline?.cancel();
    run.deadline = this.clock.setTimeout(() => this.feed(run, { type: 'run.deadline' }), at - this.clock.now());
  }

  /** Periodic check for what fires while runs are evicted: gate timeouts and run deadlines. */
  private armPoll(): void {
    if (this.closed) return;
    this.pollTimer = this.clock.setTimeout(
      () => {
        void this.poll().finally(() => this.armPoll());
      },
      this.pollMs,
      { background: true },
    );
  }

  private async poll(): Promise<void> {
    const now = this.clock.now();
    const due = await this.store.dueGateTimeouts(now, 500);
    for (const { runId, nodeId } of due) {
      const run = await this.getHot(runId);
      const target = run ? nodeOfKey(run, nodeId) : undefined;
      if (run && target) this.feed(run, { type: 'timer.fired', node: target.node, item: target.item, kind: 'gate_timeout' });
    }
    for (const runId of await this.store.dueRunDeadlines(now, 500)) {
      const run = await this.getHot(runId);
      if (run) this.feed(run, { type: 'run.deadline' });
    }
  }
}

function toEvent(runId: string, seq: number, at: string, d: EventDraft): RunEvent {
  const e = { seq, runId, type: d.type, at, data: d.data } as RunEvent;
  if (d.nodeId !== undefined) e.nodeId = d.nodeId;
  if (d.item !== undefined) e.item = d.item;
  return e;
}

/** A row key (`<node>` or `<node>[<item>]`) as the node index and item of a run's workflow. */
function nodeOfKey(run: HotRun, key: string): { node: number; item: number | undefined } | undefined {
  const parsed = parseItemKey(key);
  const node = run.prepared.compiled.indexById.get(parsed ? parsed.nodeId : key);
  if (node === undefined) return undefined;
  if (parsed && !run.prepared.compiled.nodes[node]!.map) return undefined;
  return { node, item: parsed?.item };
}

export function createEngine(options: EngineOptions): RunnerEngine {
  return new RunnerEngine(options);
}
