/**
 * Closed unions of run and node-run statuses (SPEC §1). Each is an `as const` tuple so that
 * code can iterate over them and the compiler can demand exhaustive handling.
 */

export const RUN_STATUSES = ['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const NODE_STATUSES = [
  'pending',
  'queued',
  'running',
  'retrying',
  'waiting',
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];

/** Status of one attempt of a node run. */
export const ATTEMPT_STATUSES = ['running', 'succeeded', 'failed', 'cancelled'] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

export const TERMINAL_RUN_STATUSES: ReadonlySet<RunStatus> = new Set(['succeeded', 'failed', 'cancelled']);
/** A node is *resolved* once it can no longer change: its successors may then be decided. */
export const RESOLVED_NODE_STATUSES: ReadonlySet<NodeStatus> = new Set(['succeeded', 'failed', 'skipped', 'cancelled']);

export function isTerminalRunStatus(s: RunStatus): boolean {
  return TERMINAL_RUN_STATUSES.has(s);
}
export function isResolvedNodeStatus(s: NodeStatus): boolean {
  return RESOLVED_NODE_STATUSES.has(s);
}

/**
 * Per-workflow roles, lowest first; each includes the rights of those below it (viewer: read;
 * runner: + start, cancel, decide gates; editor: + save versions; owner: + delete, permissions).
 */
export const ROLES = ['viewer', 'runner', 'editor', 'owner'] as const;
export type Role = (typeof ROLES)[number];
