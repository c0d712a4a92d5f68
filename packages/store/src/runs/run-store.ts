/**
 * The runs area: what the runner needs from storage. Writes arrive as batches of small row
 * operations (never whole-run snapshots) and each batch commits in one transaction, so a
 * group of transitions costs one commit. One implementation per dialect.
 */
import type { RunEvent, RunRecord, RunSummary } from '@trellis/core';
import type { AttemptsTable, EventsTable, NodeRunsTable, RunsTable } from '../tables.ts';

export type WriteOp =
  | { op: 'run'; runId: string; set: Partial<Omit<RunsTable, 'id'>> }
  | { op: 'node'; runId: string; nodeId: string; set: Partial<Omit<NodeRunsTable, 'run_id' | 'node_id'>> }
  | { op: 'attempt.insert'; row: AttemptsTable }
  | {
      op: 'attempt.update';
      runId: string;
      nodeId: string;
      attempt: number;
      set: Partial<Omit<AttemptsTable, 'run_id' | 'node_id' | 'attempt'>>;
    }
  | { op: 'event'; row: EventsTable }
  /**
   * An item of a map node starts an attempt: its row (`node_id` = `<nodeId>[<index>]`) is
   * created on the first attempt, set back to running on later ones.
   */
  | { op: 'item.start'; runId: string; nodeId: string; attempt: number; at: string };

export interface NewRun {
  row: RunsTable;
  nodeIds: string[];
  /** The first events (run.queued), seq 1…n. */
  events: EventsTable[];
  /** Exactly-once start: (scope, key) maps to the first run created with it. */
  idempotency?: { scope: string; key: string };
  /**
   * A retry: node rows written as they are (the reused nodes, already resolved, and the nodes
   * that run again with their notes) instead of `nodeIds`' pending rows, and the attempts of
   * the reused nodes copied inside the database from run `copyAttempts.fromRunId` (each marked
   * `reused_from`: its own mark if it already had one, else `fromRunId`). One transaction with
   * the run row and its first events.
   */
  retry?: { nodes: NodeRunsTable[]; copyAttempts: { fromRunId: string; nodeIds: string[] } };
}

/** A run and its node rows, for retrying it. */
export interface RunRows {
  run: RunsTable;
  nodes: NodeRunsTable[];
}

/** A run as the runner reloads it after a restart or to wake a waiting run. */
export interface LoadedRun {
  run: RunsTable;
  nodes: NodeRunsTable[];
  /** The newest event's seq (the log is the truth; runs.last_seq is not updated per event). */
  lastSeq: number;
  /** Per node id, how many attempts ended with LEASE_EXPIRED. */
  leaseLosses: Map<string, number>;
}

export interface RunListPage {
  runs: RunSummary[];
  nextCursor: string | null;
}

export interface RunStore {
  /** Creates a run, or returns the existing one for a reused idempotency key. */
  createRun(run: NewRun): Promise<{ runId: string; created: boolean }>;
  /** Applies the operations in one transaction. */
  commit(ops: readonly WriteOp[]): Promise<void>;
  loadRun(runId: string): Promise<LoadedRun | undefined>;
  /** Runs a restarted worker must resume: queued or running, or waiting with a decision not yet applied. */
  listResumable(): Promise<string[]>;
  /** Waiting nodes whose gate timeout is due. */
  dueGateTimeouts(nowIso: string, limit: number): Promise<{ runId: string; nodeId: string }[]>;
  /** Waiting runs (held by no worker) whose deadline has passed. */
  dueRunDeadlines(nowIso: string, limit: number): Promise<string[]>;
  /**
   * Records a gate decision if the node is waiting and undecided. Returns false when it is not
   * (another decision won, or the node is not waiting): exactly one of concurrent decisions wins.
   */
  recordDecision(runId: string, nodeId: string, decision: string): Promise<boolean>;
  /** A run's status, or undefined when there is no such run. */
  getRunStatus(runId: string): Promise<string | undefined>;
  readEvents(runId: string, after: number, limit: number): Promise<RunEvent[]>;
  getRunRecord(runId: string): Promise<RunRecord | undefined>;
  listRuns(query: { workflowId?: string; limit: number; cursor?: string }): Promise<RunListPage>;
  /** A run's row and node rows, or undefined when there is no such run. */
  readRunRows(runId: string): Promise<RunRows | undefined>;
  /** The stored definition of a workflow version (JSON text). */
  getDefinition(workflowId: string, version: number): Promise<string | undefined>;
}
