/**
 * The run record (SPEC §1): what `trellis run --json` prints and `GET /workflow_runs/:id`
 * returns. A domain/API type, mapped from store rows; every node of the definition appears.
 */
import type { ErrorInfo } from './errors.ts';
import type { AttemptStatus, NodeStatus, RunStatus } from './status.ts';

export interface AttemptRecord {
  attempt: number;
  status: AttemptStatus;
  startedAt: string;
  finishedAt: string | null;
  error?: ErrorInfo;
  costUsd?: number;
  usage?: { inputTokens?: number; outputTokens?: number };
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
  nodes: Record<string, NodeRunRecord>;
}

/** A run without its nodes, for history lists. */
export type RunSummary = Omit<RunRecord, 'nodes' | 'input' | 'output'>;
