/**
 * A run that this worker holds in memory while it has work in flight: its scheduler state,
 * its prepared workflow, the next event seq, the attempts executing and the timers armed.
 * A run that only waits for people is evicted and costs nothing until it is woken.
 */
import type { RunState } from '@trellis/core';
import type { TimerHandle } from '../clock.ts';
import type { PreparedWorkflow } from '../prepared.ts';
import type { AttemptAbort } from './attempt-abort.ts';

export interface InFlight {
  attempt: number;
  /** Aborting it settles the attempt at once, even if the executor ignores the signal. */
  controller: AttemptAbort;
  /** The attempt's resolved input, once resolved: recorded on the node if the attempt is cancelled. */
  input?: unknown;
}

/** The run and node (or `<node>[<item>]`) that started a child run. */
export interface ParentLink {
  runId: string;
  nodeKey: string;
}

export class HotRun {
  lastSeq: number;
  /** Attempts executing, by node index, or `<node index>:<item>` for a map item. */
  readonly inflight = new Map<number | string, InFlight>();
  /** Per map node: its resolved items (kept while the map runs; items read `$item` from here). */
  readonly mapItems = new Map<number, unknown[]>();
  /** Per map node: when its items started (for the map's duration). */
  readonly mapStarted = new Map<number, number>();
  /** Set for a child run: who to wake when it leaves `waiting` or finishes. */
  parent: ParentLink | undefined;
  /** Sub-workflow nesting depth (0 for a top-level run). */
  depth = 0;
  workflowId = '';
  /** The principal that started the run (child runs inherit it). */
  createdBy: string | null = null;
  /** The caller's W3C traceparent (stored with the run): the run's trace continues it. */
  traceParent: string | undefined;
  readonly timers = new Map<string, TimerHandle>();
  deadline: TimerHandle | undefined;
  /** The run's input (the `context` variable). */
  readonly context: unknown;

  constructor(
    readonly id: string,
    readonly prepared: PreparedWorkflow,
    readonly state: RunState,
    lastSeq: number,
    context: unknown,
  ) {
    this.lastSeq = lastSeq;
    this.context = context;
  }

  /** Nothing executing and no output being resolved (a waiting run in this state can be evicted). */
  get idle(): boolean {
    return this.inflight.size === 0 && !this.state.finishing;
  }

  clearTimers(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    this.deadline?.cancel();
    this.deadline = undefined;
  }

  /** The variables in scope for a node: `context` and the outputs of the nodes it references. */
  scopeFor(ids: readonly string[]): Record<string, unknown> {
    const scope: Record<string, unknown> = { context: this.context };
    const { compiled } = this.prepared;
    for (const id of ids) {
      const idx = compiled.indexById.get(id);
      if (idx === undefined) continue;
      const out = this.state.nodes[idx]!.output;
      scope[id] = out === undefined ? null : out;
    }
    return scope;
  }

  /** The value of one item of a map node (its resolved `items`). */
  itemValue(node: number, item: number): unknown {
    const v = this.mapItems.get(node)?.[item];
    return v === undefined ? null : v;
  }

  /** Scope with every node's output (for the run's `output` bindings). */
  fullScope(): Record<string, unknown> {
    return this.scopeFor(this.prepared.compiled.nodes.map((n) => n.id));
  }
}
