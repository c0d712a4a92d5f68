/**
 * The executor contract: how a node's work is carried out. The runner resolves the node's
 * input, then calls `execute` once per attempt. Built-in executors (transform, condition,
 * http.request, …) and the A2A / MCP executors all implement it.
 */
import type { NodeDefinition } from './definition.ts';
import type { CostReport } from './events.ts';

export interface ExecutorLogger {
  debug(msg: string, data?: Record<string, unknown>): void;
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
}

/** A human decision handed back to a waiting node (a gate, or an agent's input-required). */
export interface GateDecision {
  approved: boolean;
  by: string;
  comment?: string;
  data?: unknown;
}

export interface ExecutorContext {
  readonly runId: string;
  readonly nodeId: string;
  /** For an item of a `map` node: its 0-based index (`node` is then the map's `do` body). */
  readonly item?: number;
  /** 1-based attempt number. */
  readonly attempt: number;
  /**
   * `<runId>:<nodeId>:<attempt>` (for a map item `<runId>:<nodeId>[<index>]:<attempt>`): passed to
   * agents and tools so they can deduplicate.
   */
  readonly idempotencyKey: string;
  /** Aborted on cancellation, attempt timeout, run deadline or lease loss. */
  readonly signal: AbortSignal;
  readonly node: NodeDefinition;
  /** The variables in scope for the node: `context` and each upstream node's output by id. */
  readonly scope: Readonly<Record<string, unknown>>;
  readonly logger: ExecutorLogger;
  /** Adds cost to this attempt (may be called several times). */
  reportCost(cost: CostReport): void;
  /** Renders a `{{ }}` template against `scope` (in the engine's expression sandbox). */
  renderTemplate(template: string): Promise<string>;
  /**
   * Evaluates a JSONata expression in the engine's expression sandbox, against `scope` unless
   * another is given (e.g. with per-item variables). Rejects with TrellisError EXPRESSION_ERROR.
   * Executors never evaluate a definition's expressions themselves.
   */
  evaluate(source: string, scope?: Readonly<Record<string, unknown>>): Promise<unknown>;
  /**
   * A reference to remote work stored by an earlier call of `saveRemoteRef` for this node
   * (e.g. an A2A task id), so that a restarted worker re-attaches instead of sending twice.
   */
  readonly remoteRef: unknown;
  /** Durably stores a reference to remote work before waiting on it. */
  saveRemoteRef(ref: unknown): Promise<void>;
  /** Set when the node is resumed after `waiting`: the human decision to pass on. */
  readonly decision: GateDecision | undefined;
}

export type ExecutionResult =
  | { kind: 'succeeded'; output: unknown; cost?: CostReport }
  /** The node waits for a human; it resumes through a gate decision (`ctx.decision`). */
  | { kind: 'waiting'; prompt: string };

/**
 * What `Executor.cancel` gets: the node's waiting attempt and the reference to its remote work.
 * No human decision is involved — a cancel is a cancel, never a gate rejection.
 */
export interface CancelContext {
  readonly runId: string;
  readonly nodeId: string;
  readonly item?: number;
  readonly attempt: number;
  readonly node: NodeDefinition;
  /** What `saveRemoteRef` stored for this node (e.g. an A2A task id). */
  readonly remoteRef: unknown;
  /** Why: the run was cancelled, failed, or hit its deadline (the error the node is cancelled with). */
  readonly reason: string;
  readonly logger: ExecutorLogger;
}

export interface Executor {
  execute(input: unknown, ctx: ExecutorContext): Promise<ExecutionResult>;
  /**
   * Cancels remote work of an attempt that is not executing in this process: a node waiting
   * for an agent's `input-required` task when its run is cancelled or fails (an executing
   * attempt is cancelled through its AbortSignal instead). Best effort: the node is recorded
   * as cancelled whatever the remote side does; a failure here is logged, never raised.
   */
  cancel?(ctx: CancelContext): Promise<void>;
}

/** Finds the executor for a node (by type, and for `tool_call` by tool name). */
export interface ExecutorResolver {
  resolve(node: NodeDefinition): Executor | undefined;
}
