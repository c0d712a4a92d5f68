/**
 * The runs area: what the runner needs from storage. Writes arrive as batches of the
 * scheduler's patches, events and attempt transitions in domain values (`RunWriteOp`; never
 * whole-run snapshots), lowered to rows by the shared mapping (mapping.ts), and each batch
 * commits in one transaction, so a group of transitions costs one commit. Reads give domain
 * values back (`LoadedRun`, statuses of their closed unions). One implementation per dialect.
 */
import type { ErrorInfo, GateDecision, NodeStatus, RunEvent, RunRecord, RunStatus, RunSummary } from '@trellis/core';
import type { NodeRetryInfo, RunRetryInfo } from '../tables.ts';
import type { LoadedRun, RunWriteOp } from './mapping.ts';

export type { LoadedRun, RunWriteOp } from './mapping.ts';

/**
 * A run to create, in domain values (JSON values, epoch milliseconds); the store encodes it.
 * It is created queued, with `events` as its first events (seq 1…n).
 */
export interface NewRun {
  id: string;
  workflowId: string;
  version: number;
  /** The run's input (a JSON value). */
  input: unknown;
  createdBy: string | null;
  /** Epoch ms. */
  createdAt: number;
  /** When the run times out (settings.timeoutMs), epoch ms; null for none. */
  deadlineAt: number | null;
  /**
   * The worker that holds the run from its creation (the process that starts a run executes
   * it), with its lease's expiry (epoch ms; null when there is no leasing); null leaves the run
   * to whichever worker claims it.
   */
  claim: { workerId: string; leaseExpiresAt: number | null } | null;
  /** A child run: the parent run, the row key of the node that started it, and the nesting depth. */
  parent?: { runId: string; nodeKey: string; depth: number } | undefined;
  /** The caller's W3C traceparent: the run's trace continues it. */
  traceParent?: string | undefined;
  /** The workflow's node ids: each gets a pending row (a retry gives its nodes in `retry.nodes`). */
  nodeIds: readonly string[];
  /** The first events (run.queued, and a retry's node.reused), seq 1…n. */
  events: readonly RunEvent[];
  /** Exactly-once start: (scope, key) maps to the first run created with it. */
  idempotency?: { scope: string; key: string } | undefined;
  /** A retry: its link to the run retried and its nodes' starting states. */
  retry?: NewRetry | undefined;
}

/**
 * What a retry writes with its new run, in the same transaction: the link, the node states it
 * starts from (instead of `nodeIds`' pending rows), and — for each reused node or map item (one
 * with `reusedFrom`) — the attempts of run `fromRunId`, copied inside the database (each marked
 * `reusedFrom`: its own mark if it already had one, else `fromRunId`).
 */
export interface NewRetry {
  /** The run retried; null for a scratch run (not linked to the run it reuses). */
  retryOf: string | null;
  info: RunRetryInfo;
  /** The run whose attempts the reused nodes copy. */
  fromRunId: string;
  nodes: readonly RetryNode[];
}

/** A node (or one map item) of a retry, as it starts. */
export interface RetryNode {
  nodeId: string;
  /** One item of a map node (its 0-based index). */
  item?: number | undefined;
  status: NodeStatus;
  attempt: number;
  /** The resolved input it ran with (a JSON value), undefined for none. */
  input: unknown;
  /** Its output (a JSON value), undefined for none. */
  output: unknown;
  error: ErrorInfo | null;
  /** Epoch ms. */
  startedAt: number | null;
  finishedAt: number | null;
  /** Indexes of the outgoing edges it took (a finished node), or null. */
  taken: readonly number[] | null;
  /** The run its output was first produced by: set on a reused node (its attempts are copied). */
  reusedFrom: string | null;
  retryInfo: NodeRetryInfo | null;
  itemCount: number | null;
}

/** A node (or map item) of a run as a retry reads it: its state and what it ran with. */
export interface PastNode {
  status: NodeStatus;
  attempt: number;
  /** The resolved input it ran with (a JSON value), undefined for none. */
  input: unknown;
  /** Its output (a JSON value), undefined for none. */
  output: unknown;
  error: ErrorInfo | null;
  costUsd: number;
  /** Epoch ms. */
  startedAt: number | null;
  finishedAt: number | null;
  /** Indexes of the outgoing edges it took, or null. */
  taken: number[] | null;
  /** The run its output was first produced by (it was reused), or null. */
  reusedFrom: string | null;
  retryInfo: NodeRetryInfo | null;
  itemCount: number | null;
}

/** A run as a retry reads it, in domain values. */
export interface PastRun {
  id: string;
  workflowId: string;
  version: number;
  status: RunStatus;
  input: unknown;
  costUsd: number;
  /** By node id. */
  nodes: Map<string, PastNode>;
  /** A map node's items, by map node id, in the order the store holds them. */
  items: Map<string, { index: number; node: PastNode }[]>;
}

export interface RunListPage {
  runs: RunSummary[];
  nextCursor: string | null;
}

export interface RunStore {
  /**
   * True when a commit has a fixed cost worth sharing between transitions (a network round trip
   * and a function call, as on PostgreSQL): the engine then lets a commit wait briefly (1–4 ms,
   * as long as commits lately took) for built-in nodes still evaluating, so that they commit
   * together.
   */
  readonly remoteCommits?: boolean;
  /** Creates a run, or returns the existing one for a reused idempotency key. */
  createRun(run: NewRun): Promise<{ runId: string; created: boolean }>;
  /** Applies the operations in one transaction. */
  commit(ops: readonly RunWriteOp[]): Promise<void>;
  /** A run in domain values, to rebuild its scheduler state (`toPersistedRunState`). */
  loadRun(runId: string): Promise<LoadedRun | undefined>;
  /** Runs a restarted worker must resume: queued or running, or waiting with a decision not yet applied. */
  listResumable(): Promise<string[]>;
  /** Waiting nodes whose gate timeout is due at `now` (epoch ms). */
  dueGateTimeouts(now: number, limit: number): Promise<{ runId: string; nodeId: string }[]>;
  /** Waiting runs (held by no worker) whose deadline has passed at `now` (epoch ms). */
  dueRunDeadlines(now: number, limit: number): Promise<string[]>;
  /**
   * Records a gate decision if the node is waiting and undecided. Returns false when it is not
   * (another decision won, or the node is not waiting): exactly one of concurrent decisions wins.
   */
  recordDecision(runId: string, nodeId: string, decision: GateDecision): Promise<boolean>;
  /** A run's status, or undefined when there is no such run. */
  getRunStatus(runId: string): Promise<RunStatus | undefined>;
  readEvents(runId: string, after: number, limit: number): Promise<RunEvent[]>;
  getRunRecord(runId: string): Promise<RunRecord | undefined>;
  listRuns(query: { workflowId?: string; limit: number; cursor?: string }): Promise<RunListPage>;
  /** A run and its nodes as a retry reads them, or undefined when there is no such run. */
  readPastRun(runId: string): Promise<PastRun | undefined>;
  /** The stored definition of a workflow version (a JSON object, as saved), or undefined when there is none. */
  getDefinition(workflowId: string, version: number): Promise<Record<string, unknown> | undefined>;
}
