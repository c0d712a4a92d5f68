/**
 * The runs area: what the runner needs from storage. Writes arrive as batches of the
 * scheduler's patches, events and attempt transitions in domain values (`RunWriteOp`; never
 * whole-run snapshots), lowered to rows by the shared mapping (mapping.ts), and each batch
 * commits in one transaction, so a group of transitions costs one commit. Reads give domain
 * values back (`LoadedRun`, statuses of their closed unions). One implementation per dialect.
 */
import type { RunEvent, RunRecord, RunStatus, RunSummary } from '@trellis/core';
import type { EventsTable, NodeRunsTable, RunsTable } from '../tables.ts';
import type { LoadedRun, WriteOp } from './mapping.ts';

export type { LoadedRun, WriteOp } from './mapping.ts';

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

export interface RunListPage {
  runs: RunSummary[];
  nextCursor: string | null;
}

export interface RunStore {
  /** Creates a run, or returns the existing one for a reused idempotency key. */
  createRun(run: NewRun): Promise<{ runId: string; created: boolean }>;
  /** Applies the operations in one transaction. */
  commit(ops: readonly WriteOp[]): Promise<void>;
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
  recordDecision(runId: string, nodeId: string, decision: string): Promise<boolean>;
  /** A run's status, or undefined when there is no such run. */
  getRunStatus(runId: string): Promise<RunStatus | undefined>;
  readEvents(runId: string, after: number, limit: number): Promise<RunEvent[]>;
  getRunRecord(runId: string): Promise<RunRecord | undefined>;
  listRuns(query: { workflowId?: string; limit: number; cursor?: string }): Promise<RunListPage>;
  /** A run's row and node rows, or undefined when there is no such run. */
  readRunRows(runId: string): Promise<RunRows | undefined>;
  /** The stored definition of a workflow version (JSON text). */
  getDefinition(workflowId: string, version: number): Promise<string | undefined>;
}
