/**
 * The run record (SPEC §1): what `trellis run --json` prints and `GET /workflow_runs/:id`
 * returns. A domain/API type, mapped from store rows; every node of the definition appears.
 */
import type { ErrorInfo } from './errors.ts';
import type { AttemptStatus, NodeStatus, RunStatus } from './status.ts';
import type { RunTrigger } from './triggers.ts';

export interface AttemptRecord {
  attempt: number;
  status: AttemptStatus;
  startedAt: string;
  finishedAt: string | null;
  error?: ErrorInfo;
  costUsd?: number;
  usage?: { inputTokens?: number; outputTokens?: number };
  /** Copied by a retry from this run (the attempt ran there, not here). */
  reusedFrom?: string;
}

export interface NodeRunRecord {
  status: NodeStatus;
  input: unknown;
  output: unknown;
  error: ErrorInfo | null;
  costUsd: number;
  startedAt: string | null;
  finishedAt: string | null;
  /** A waiting node's prompt. */
  prompt?: string;
  /** When the next attempt is due, for a node in backoff. */
  nextAttemptAt?: string;
  attempts: AttemptRecord[];
  /** Retries: the node was not executed; its output and attempts come from this run. */
  reusedFrom?: string;
  /** Retries: what executing this node again would have cost (its cost in `reusedFrom`). */
  costSavedUsd?: number;
  /** Retries: why this node runs again instead of being reused. */
  notReused?: string;
  /** Retries: a remark on a reused node (e.g. its irreversible effect stands, not repeated). */
  reuseNote?: string;
  /** Retries: the node has irreversible side effects and may run again only once approved; why. */
  approvalRequired?: string;
  /** A `map` node: how many items its `items` resolved to (absent until then). */
  itemCount?: number;
  /** A `map` node: its items that have started, by index. Items not yet started are absent. */
  items?: Record<string, ItemRunRecord>;
  /** A `workflow` node: the child run it started. */
  childRunId?: string;
}

/** One item of a map node. */
export interface ItemRunRecord {
  status: NodeStatus;
  output: unknown;
  error: ErrorInfo | null;
  costUsd: number;
  startedAt: string | null;
  finishedAt: string | null;
  prompt?: string;
  nextAttemptAt?: string;
  attempts: AttemptRecord[];
  /** A `workflow` body: the child run this item started. */
  childRunId?: string;
}

export interface RunRecord {
  id: string;
  workflowId: string;
  version: number;
  status: RunStatus;
  input: unknown;
  output: unknown;
  error: ErrorInfo | null;
  costUsd: number;
  createdBy: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Seq of the newest event, so a client can subscribe from here. */
  lastSeq: number;
  /** The run this one retries (null for a run started afresh). */
  retryOf: string | null;
  /** What reusing earlier results saved (0 unless this run is a retry). `costUsd` counts only what ran. */
  costSavedUsd: number;
  /** Retries of this run, oldest first. */
  retries: string[];
  /** What started the run, when a trigger did (a schedule's tick, a webhook delivery). */
  trigger?: RunTrigger;
  /** A child run (started by a `workflow` node): the parent run, node and, for a map item, item. */
  parentRunId?: string;
  parentNodeId?: string;
  parentItem?: number;
  nodes: Record<string, NodeRunRecord>;
}

/** A run without its nodes, for history lists. */
export type RunSummary = Omit<RunRecord, 'nodes' | 'input' | 'output' | 'retries'>;
