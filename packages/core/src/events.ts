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
  'run.queued': { workflowId: string; version: number };
  'run.started': Record<string, never>;
  'node.queued': Record<string, never>;
  'node.started': { attempt: number };
  'node.retrying': { attempt: number; delayMs: number; error: ErrorInfo };
  'node.waiting': { prompt: string; attempt: number };
  'node.succeeded': { output: unknown; durationMs: number; cost: CostReport | null; attempt: number };
  'node.failed': { error: ErrorInfo; attempt: number };
  'node.skipped': Record<string, never>;
  'node.cancelled': { attempt?: number };
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
  [T in EventType]: { type: T; nodeId?: string; data: EventDataByType[T] };
}[EventType];

/** A committed event as stored and streamed. */
export type RunEvent = {
  [T in EventType]: { seq: number; runId: string; type: T; nodeId?: string; at: string; data: EventDataByType[T] };
}[EventType];
