/**
 * The error taxonomy. Every error Trellis reports has a stable `code`, a `category` (whose fault:
 * the user's input, the system, or a remote agent/tool) and says whether a retry may help.
 * Control flow (a gate waiting, a cancellation) is not modelled as an error.
 */
import { errorEntry, type TrellisErrorCode } from './error-catalogue.ts';

/** Codes reported by the compiler and by the registry checks made when a workflow is saved or validated. */
export const VALIDATION_CODES = [
  'SCHEMA',
  'DUPLICATE_NODE_ID',
  'INVALID_NODE_ID',
  'INVALID_NODE_TYPE',
  'MISSING_FIELD',
  'UNKNOWN_NODE_REFERENCE',
  'CYCLE',
  'UNREACHABLE_NODE',
  'UNKNOWN_BINDING_REFERENCE',
  'BINDING_NOT_UPSTREAM',
  'EXPRESSION_SYNTAX',
  'INVALID_EDGE',
  // Checked against the agent and tool registries (at save, and by POST /workflows/validate):
  'AGENT_NOT_FOUND',
  'UNKNOWN_AGENT_SKILL',
  'TOOL_NOT_FOUND',
  'TOOL_INPUT_INVALID',
  'INVALID_TRIGGER',
  'SECRET_NOT_ALLOWED_HERE',
  'SECRET_NOT_FOUND',
  // A warning: sideEffects on a node type that has no effect outside the run.
  'SIDE_EFFECTS_IGNORED',
  // Warnings: an edge leaving a condition node without a condition; a bare name such as `tru`.
  'CONDITION_EDGE_WITHOUT_CONDITION',
  'UNKNOWN_NAME',
  'UNKNOWN_WORKFLOW',
  'WORKFLOW_FORBIDDEN',
  'WORKFLOW_CYCLE',
  'WORKFLOW_DEPTH_EXCEEDED',
] as const;
export type ValidationCode = (typeof VALIDATION_CODES)[number];

/** One problem found in a definition. `path` is a JSON pointer into the definition. */
export interface ValidationError {
  code: ValidationCode;
  message: string;
  nodes?: string[];
  path?: string;
}

/** Codes with which a node attempt or a run can fail. */
export const RUNTIME_CODES = [
  'EXPRESSION_ERROR',
  'TIMEOUT',
  'RUN_TIMEOUT',
  'CANCELLED',
  'GATE_REJECTED',
  'GATE_TIMEOUT',
  'BUDGET_EXCEEDED',
  'OUTPUT_TOO_LARGE',
  'INPUT_INVALID',
  'NETWORK_ERROR',
  'HTTP_ERROR',
  'RATE_LIMITED',
  'LEASE_EXPIRED',
  'CRASHED',
  'EXECUTOR_NOT_FOUND',
  'AGENT_ERROR',
  'AGENT_NOT_FOUND',
  'TOOL_ERROR',
  'TOOL_NOT_FOUND',
  'OUTBOUND_BLOCKED',
  'SECRET_NOT_FOUND',
  'SECRET_NOT_ALLOWED_HERE',
  'NODE_FAILED',
  'MAP_ITEMS_NOT_ARRAY',
  'MAP_TOO_MANY_ITEMS',
  'WORKFLOW_NOT_FOUND',
  'WORKFLOW_FORBIDDEN',
  'WORKFLOW_DEPTH_EXCEEDED',
  'INTERNAL',
] as const;
export type RuntimeCode = (typeof RUNTIME_CODES)[number];

export type ErrorCategory = 'user' | 'system' | 'remote';

/** The serialisable shape of an error as stored in node runs, attempts, events and run records. */
export interface ErrorInfo {
  /**
   * A stable code: one of the catalogue (ERROR_CATALOGUE) or `HTTP_<status>` for HTTP failures.
   * Typed as text because stored records and other processes may carry codes this build does
   * not know; `errorEntry` answers for any of them.
   */
  code: string;
  message: string;
  retryable?: boolean;
  /** Milliseconds the remote side asked us to wait (Retry-After). */
  retryAfterMs?: number;
  details?: unknown;
}

export interface TrellisErrorOptions {
  /** Default: the code's category in the catalogue. */
  category?: ErrorCategory;
  /** Default: true for a `transient` code of the catalogue, else false. */
  retryable?: boolean;
  retryAfterMs?: number;
  details?: unknown;
  cause?: unknown;
}

/** An error with a stable code of the catalogue. Executors throw it to tell the runner whether to retry. */
export class TrellisError extends Error {
  readonly code: TrellisErrorCode;
  readonly category: ErrorCategory;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly details: unknown;

  constructor(code: TrellisErrorCode, message: string, options: TrellisErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TrellisError';
    this.code = code;
    const entry = errorEntry(code);
    this.category = options.category ?? entry.category;
    this.retryable = options.retryable ?? entry.retry === 'transient';
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details;
  }

  static retryable(code: TrellisErrorCode, message: string, options: Omit<TrellisErrorOptions, 'retryable'> = {}): TrellisError {
    return new TrellisError(code, message, { ...options, retryable: true });
  }

  /** An error recorded elsewhere (a run record, another process) raised again, code and all. */
  static fromInfo(info: ErrorInfo, options: Omit<TrellisErrorOptions, 'retryAfterMs' | 'details'> = {}): TrellisError {
    return new TrellisError(info.code as TrellisErrorCode, info.message, {
      ...(info.retryable === undefined ? {} : { retryable: info.retryable }),
      ...(info.retryAfterMs === undefined ? {} : { retryAfterMs: info.retryAfterMs }),
      ...(info.details === undefined ? {} : { details: info.details }),
      ...options,
    });
  }

  toInfo(): ErrorInfo {
    const info: ErrorInfo = { code: this.code, message: this.message };
    if (this.retryable) info.retryable = true;
    if (this.retryAfterMs !== undefined) info.retryAfterMs = this.retryAfterMs;
    if (this.details !== undefined) info.details = this.details;
    return info;
  }
}

/**
 * The one boundary function that turns anything thrown into an ErrorInfo. Unknown errors become
 * `INTERNAL` and are not retried; their message is kept (never a stack trace).
 */
export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof TrellisError) return err.toInfo();
  if (err instanceof Error) {
    if (err.name === 'AbortError') return { code: 'CANCELLED', message: 'the attempt was cancelled' };
    return { code: 'INTERNAL', message: err.message || err.name };
  }
  return { code: 'INTERNAL', message: typeof err === 'string' ? err : 'unknown error' };
}
