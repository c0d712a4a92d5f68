/**
 * The scheduler's vocabulary. The scheduler is a pure state machine:
 * `decide(run, input, now) → effects`. It performs no I/O and reads no clock; the runtime
 * shell feeds it inputs (attempt results, timers, decisions, cancellation) and carries out the
 * effects (persist, announce, execute, abort, set timers). See docs/ARCHITECTURE.md.
 */
import type { CompiledWorkflow } from '../compiled.ts';
import type { ErrorInfo } from '../errors.ts';
import type { CostReport, EventDraft } from '../events.ts';
import type { GateDecision } from '../executor.ts';
import type { NodeStatus, RunStatus } from '../status.ts';

/** In-memory state of one node of a run. */
export interface NodeState {
  status: NodeStatus;
  /** Current attempt number (0 before the first). */
  attempt: number;
  /** Incoming edges whose source is not yet resolved. */
  pendingIn: number;
  /** Incoming edges taken so far. */
  takenIn: number;
  /** Attempts lost to an expired lease; they do not count against `retry.maxAttempts`. */
  leaseLosses: number;
  /**
   * Recoveries in a row that found this node's attempt in flight after its process stopped
   * without a clean shutdown (poison-run quarantine); back to 0 once an attempt ends by itself.
   */
  recoveries: number;
  /** The attempt in flight was left by a clean shutdown: the next recovery does not count it. */
  interrupted: boolean;
  output: unknown;
  error: ErrorInfo | null;
  costUsd: number;
  /** Indexes (into `compiled.edges`) of the outgoing edges this node took once resolved. */
  taken: number[] | null;
  /**
   * Retries: the node must be approved before its first attempt (irreversible side effects);
   * the prompt of that automatic gate. Null otherwise, and once decided.
   */
  approval: string | null;
  /** A `map` node whose items are known (after its items binding resolved): the items' state. */
  map: MapState | null;
}

/** Status of one map item, as a small integer (items are many; see ITEM_STATUS). */
export type ItemCode = 0 | 1 | 2 | 3 | 4 | 5 | 6;

/** In-memory state of a map node's items. Per-item values live in typed arrays: flat in memory. */
export interface MapState {
  readonly count: number;
  /** Per item: ITEM_STATUS code. */
  readonly status: Uint8Array;
  /** Per item: its current attempt number (0 before the first). */
  readonly attempt: Uint16Array;
  /** Attempts lost to an expired lease, by item (rare, so sparse). */
  readonly leaseLosses: Map<number, number>;
  /** Per item: its output once succeeded (null for a failed item). */
  readonly outputs: unknown[];
  /** Final errors of failed items (onItemError "continue"), by item. */
  readonly errors: Map<number, ErrorInfo>;
  /** The next item never started; every item below it has started at least once (or is in `ready`). */
  next: number;
  /** Items to (re)start before `next`: retries whose delay passed without a free slot, gaps after recovery. */
  readonly ready: number[];
  /** Items executing now. */
  active: number;
  retrying: number;
  waiting: number;
  /** Items succeeded or failed for good. */
  resolved: number;
  /** Set once the map's result is decided (all items resolved, or one failed under "fail"). */
  finishing: boolean;
}

/** In-memory state of a run: rebuilt from rows on recovery, never snapshotted whole. */
export interface RunState {
  readonly runId: string;
  readonly compiled: CompiledWorkflow;
  status: RunStatus;
  nodes: NodeState[];
  /** Nodes ready to start but held back by `settings.maxConcurrency`, FIFO. */
  queue: number[];
  /** Map nodes whose items are being run (expanded, not yet finishing), in start order. */
  maps: number[];
  /** Nodes (and map items) whose attempt is executing right now. */
  running: number;
  /** Nodes in backoff, waiting for their next attempt. */
  retrying: number;
  /** Nodes waiting for a human decision. */
  waiting: number;
  /** Nodes resolved (succeeded, failed, skipped, cancelled). */
  resolved: number;
  costUsd: number;
  /** Set once every node resolved and the run's output is being resolved by the shell. */
  finishing: boolean;
  error: ErrorInfo | null;
}

/** What the shell feeds the scheduler. A closed union. */
export type SchedulerInput =
  | { type: 'start' }
  | {
      type: 'attempt.succeeded';
      node: number;
      /** Set for an item of a map node. */
      item?: number | undefined;
      attempt: number;
      output: unknown;
      cost?: CostReport | undefined;
      durationMs: number;
      /** Outgoing edge indexes whose condition held (edges without a condition count as taken). */
      taken: number[];
    }
  | {
      type: 'attempt.failed';
      node: number;
      item?: number | undefined;
      attempt: number;
      error: ErrorInfo;
      cost?: CostReport | undefined;
      /** Only when the failure is final and the node has `onError: "continue"`: the taken outgoing edges. */
      taken?: number[] | undefined;
      /** A uniform random number in [0, 1) for jitter (the scheduler has no randomness of its own). */
      random?: number;
    }
  | {
      type: 'attempt.waiting';
      node: number;
      item?: number | undefined;
      attempt: number;
      prompt: string;
      waitUntil: number | null;
    }
  | { type: 'gate.decided'; node: number; item?: number | undefined; decision: GateDecision }
  | { type: 'timer.fired'; node: number; item?: number | undefined; kind: 'retry' | 'gate_timeout' }
  /** A map node's `items` resolved to an array of `count` items (its attempt `attempt`). */
  | { type: 'map.expanded'; node: number; attempt: number; count: number }
  | { type: 'run.deadline' }
  | { type: 'cancel'; reason?: string }
  /** The attempt's owner is gone (worker died): fail it by lease and start a new attempt. */
  | { type: 'lease.expired'; node: number; item?: number | undefined; attempt: number }
  /**
   * After a restart, with the state rebuilt from rows (see rebuildRunState). A node found in
   * flight for the `maxRecoveries`-th time in a row fails with CRASHED instead of running again
   * (default 3).
   */
  | { type: 'recover'; maxRecoveries?: number }
  | { type: 'output.resolved'; output: unknown }
  | { type: 'output.failed'; error: ErrorInfo };

/** Node row fields a transition changes (only those it touches). */
export interface NodePatch {
  status?: NodeStatus;
  attempt?: number;
  output?: unknown;
  error?: ErrorInfo | null;
  costUsd?: number;
  startedAt?: number;
  finishedAt?: number;
  nextAttemptAt?: number | null;
  prompt?: string | null;
  waitUntil?: number | null;
  taken?: number[] | null;
  /** Clears a consumed gate decision. */
  clearDecision?: boolean;
  recoveries?: number;
  interrupted?: boolean;
  /** A map node: how many items its `items` resolved to. */
  itemCount?: number;
}

export interface RunPatch {
  status?: RunStatus;
  output?: unknown;
  error?: ErrorInfo | null;
  costUsd?: number;
  startedAt?: number;
  finishedAt?: number;
}

/** What the shell must carry out. A closed union. */
export type Effect =
  | { type: 'event'; event: EventDraft }
  /** A node's row, or with `item` the row of one of a map node's items. */
  | { type: 'node.patch'; node: number; item?: number | undefined; patch: NodePatch }
  | { type: 'run.patch'; patch: RunPatch }
  /**
   * Insert the attempt row (running), then, after commit, execute it. With `item`: an item of a
   * map node (its row is created on its first attempt).
   */
  | { type: 'attempt.start'; node: number; item?: number | undefined; attempt: number }
  /** Execute a waiting attempt again with the human decision (the attempt row already exists). */
  | { type: 'attempt.resume'; node: number; item?: number | undefined; attempt: number; decision: GateDecision }
  | {
      type: 'attempt.finish';
      node: number;
      item?: number | undefined;
      attempt: number;
      status: 'succeeded' | 'failed' | 'cancelled';
      error?: ErrorInfo | undefined;
      cost?: CostReport | undefined;
      /**
       * The attempt ended because the worker running it stopped (its lease expired): stored as
       * such, so recovery counts lease losses without reading error texts.
       */
      leaseLost?: true;
    }
  /** Abort a running attempt's signal (cancellation, run failure, deadline). */
  | { type: 'attempt.abort'; node: number; item?: number | undefined; attempt: number; error: ErrorInfo }
  | { type: 'timer.set'; node: number; item?: number | undefined; kind: 'retry' | 'gate_timeout'; dueAt: number }
  | { type: 'timer.clear'; node: number; item?: number | undefined; kind: 'retry' | 'gate_timeout' }
  /**
   * A map node's result is decided: the shell evaluates its outgoing edges and feeds
   * `attempt.succeeded` (or `attempt.failed`) for the map's own attempt.
   */
  | {
      type: 'map.finish';
      node: number;
      attempt: number;
      result: { kind: 'succeeded'; output: unknown } | { kind: 'failed'; error: ErrorInfo };
    }
  /** Every node resolved: the shell resolves the run's `output` bindings and feeds `output.resolved`. */
  | { type: 'output.resolve' }
  /** The run reached a terminal status. */
  | { type: 'run.finished'; status: 'succeeded' | 'failed' | 'cancelled' };
