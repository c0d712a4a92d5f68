/**
 * The engine's public face: what the CLI and the HTTP server call. One Engine per process owns
 * the runs it is executing (hot in memory, written through to the store on every transition).
 */
import type { ErrorInfo, GateDecision, RunEvent, RunRecord, RunStatus, RunSummary } from '@trellis/core';

export interface StartRunRequest {
  workflowId: string;
  /** The workflow version to run; it must exist in the store. */
  version: number;
  input: unknown;
  /** Principal that started the run. */
  createdBy?: string;
  /**
   * Exactly-once start: a second call with the same (workflowId, idempotencyKey) returns the
   * first run instead of creating another.
   */
  idempotencyKey?: string;
  /**
   * The caller's W3C `traceparent` header: the run's trace continues the caller's trace
   * (stored with the run). An invalid value is ignored, as W3C Trace Context prescribes.
   */
  traceParent?: string;
  /**
   * Admission before execution: the run is created (durable, `queued`) at once, and executes only
   * once this settles. The schedule loop admits every due tick of a pass first, so thousands of
   * ticks due together are all queued within the pass instead of waiting behind the first ones'
   * execution.
   */
  holdUntil?: Promise<unknown>;
}

export interface StartRunResult {
  runId: string;
  status: RunStatus;
  /** False when an idempotency key matched an existing run. */
  created: boolean;
}

export interface RetryRunRequest {
  /** The finished run to retry (succeeded, failed or cancelled). */
  runId: string;
  /** Nodes to run again, with everything downstream of them; default: the failed and cancelled nodes. */
  from?: string[];
  /**
   * Run this version of the workflow (the caller resolves "latest"): a node is then reused only
   * if it and everything upstream of it are unchanged. Default: the version the run ran.
   */
  latestVersion?: number;
  /** Principal that asked for the retry. */
  createdBy?: string;
  /** Exactly-once: a second retry of the same run with the same key returns the first retry. */
  idempotencyKey?: string;
  /**
   * A scratch run (the builder's "test this node"): run `version` of another workflow — the
   * scratch workflow holding the draft under test — reusing every node of `runId` whose
   * definition and upstream are unchanged (closure hashes). The new run is not linked to
   * `runId` (it is not one of its retries). `latestVersion` is ignored.
   */
  scratch?: { workflowId: string; version: number };
}

export interface RetryRunResult {
  runId: string;
  status: RunStatus;
  retryOf: string;
  created: boolean;
  /** Nodes reused (not executed) and what that saved. */
  reused: number;
  costSavedUsd: number;
}

export type GateDecisionOutcome = { ok: true } | { ok: false; reason: 'run_not_found' | 'node_not_found' | 'not_waiting' };

export interface Subscription {
  close(): void;
}

export interface SubscribeOptions {
  /** Deliver events with seq > after (0: from the start). */
  after: number;
  onEvent(event: RunEvent): void;
  /** Called once after the run's terminal event was delivered (the stream has ended). */
  onEnd?(): void;
  /**
   * Called once when the subscription cannot go on without a gap — the run's stored events
   * could not be read (code `REPLAY_FAILED`, `details.resumeAfter` = the last seq delivered).
   * Nothing is delivered after it; subscribe again with `after: details.resumeAfter`.
   */
  onError?(error: ErrorInfo): void;
}

export interface RunListQuery {
  workflowId?: string;
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

export interface Engine {
  /**
   * Starts a run. Throws TrellisError `INPUT_INVALID` (category user, details: the schema
   * problems) when the input violates the workflow's inputSchema; nothing is stored then.
   */
  startRun(req: StartRunRequest): Promise<StartRunResult>;
  /**
   * Retries a finished run as a new run that reuses what succeeded (docs/retry.md). Throws
   * TrellisError (category user): RUN_NOT_FOUND, RUN_NOT_FINISHED, RETRY_UNKNOWN_NODE,
   * NOTHING_TO_RERUN.
   */
  retryRun(req: RetryRunRequest): Promise<RetryRunResult>;
  /** Requests cancellation. Resolves when the cancellation is committed. */
  cancelRun(runId: string, reason?: string): Promise<{ status: RunStatus } | undefined>;
  /**
   * Decides a waiting human gate (or agent question); with `item`, the gate of one item of a map
   * node. Of two concurrent decisions exactly one wins.
   */
  decideGate(runId: string, nodeId: string, decision: GateDecision, item?: number): Promise<GateDecisionOutcome>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  listRuns(query: RunListQuery): Promise<{ runs: RunSummary[]; nextCursor: string | null }>;
  /** Committed events with seq > after, oldest first. */
  listEvents(runId: string, after: number, limit?: number): Promise<RunEvent[]>;
  /** Replays events after `after`, then streams live ones, with no gap and no duplicate. */
  subscribe(runId: string, options: SubscribeOptions): Subscription;
  /** Resolves when the run reaches a terminal status (or is waiting, if `orWaiting`). */
  waitForRun(runId: string, options?: { orWaiting?: boolean }): Promise<RunRecord>;
  /** Stops claiming work; running attempts get `graceMs` to finish, then are left to be resumed. */
  shutdown(graceMs?: number): Promise<void>;
}
