/**
 * Run events (SPEC §5). Each run has an append-only log; `seq` starts at 1 and increases by
 * one per event, assigned inside the transaction that appends the event (gap-free).
 */
import type { ErrorInfo } from './errors.ts';

export const EVENT_TYPES = [
  'run.queued',
  'run.started',
  'node.queued',
  'node.started',
  'node.retrying',
  'node.waiting',
  'node.succeeded',
  'node.failed',
  'node.skipped',
  'node.cancelled',
  'node.reused',
  'gate.approved',
  'gate.rejected',
  'run.waiting',
  'run.cost',
  'run.succeeded',
  'run.failed',
  'run.cancelled',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface CostReport {
  costUsd?: number;
  usage?: { inputTokens?: number; outputTokens?: number };
}

/** The `data` carried by each event type. */
export interface EventDataByType {
  'run.queued': { workflowId: string; version: number; retryOf?: string };
  'run.started': Record<string, never>;
  'node.queued': Record<string, never>;
  'node.started': { attempt: number };
  'node.retrying': { attempt: number; delayMs: number; error: ErrorInfo };
  /** `attempt` 0: a retry's automatic approval before an irreversible node (nothing has run yet). */
  'node.waiting': { prompt: string; attempt: number };
  'node.succeeded': { output: unknown; durationMs: number; cost: CostReport | null; attempt: number };
  'node.failed': { error: ErrorInfo; attempt: number };
  'node.skipped': Record<string, never>;
  'node.cancelled': { attempt?: number };
  /**
   * A retry took this node's result from an earlier run instead of executing it (written when
   * the retry is created, before `run.started`). `reusedFrom`: the run that executed it.
   */
  'node.reused': {
    reusedFrom: string;
    output: unknown;
    costSavedUsd: number;
    /** Set for a node with irreversible side effects: its effect from `reusedFrom` stands. */
    note?: string;
  };
  'gate.approved': { by: string; comment?: string; data?: unknown };
  'gate.rejected': { by: string; comment?: string };
  'run.waiting': Record<string, never>;
  'run.cost': { totalUsd: number };
  'run.succeeded': { output: unknown };
  'run.failed': { error: ErrorInfo };
  'run.cancelled': { reason?: string };
}

/** An event before it has a seq (what the scheduler emits). */
export type EventDraft = {
  [T in EventType]: { type: T; nodeId?: string; item?: number; data: EventDataByType[T] };
}[EventType];

/** A committed event as stored and streamed. */
export type RunEvent = {
  [T in EventType]: {
    seq: number;
    runId: string;
    type: T;
    nodeId?: string;
    /** Set on the events of one item of a map node (its 0-based index). */
    item?: number;
    at: string;
    data: EventDataByType[T];
  };
}[EventType];
