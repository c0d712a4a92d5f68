/**
 * The engine's public face: what the CLI and the HTTP server call. One Engine per process owns
 * the runs it is executing (hot in memory, written through to the store on every transition).
 */
import type { GateDecision, RunEvent, RunRecord, RunStatus, RunSummary } from '@trellis/core';

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
}

export interface StartRunResult {
  runId: string;
  status: RunStatus;
  /** False when an idempotency key matched an existing run. */
  created: boolean;
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
  /** Requests cancellation. Resolves when the cancellation is committed. */
  cancelRun(runId: string, reason?: string): Promise<{ status: RunStatus } | undefined>;
  /** Decides a waiting human gate (or agent question). Of two concurrent decisions exactly one wins. */
  decideGate(runId: string, nodeId: string, decision: GateDecision): Promise<GateDecisionOutcome>;
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
