/**
 * The scheduler's transition function. `decide` applies one input to a run's state (in place:
 * the state is the worker's private working copy, rebuilt from rows after a crash) and returns
 * the effects the shell must carry out, in order. No I/O, no clock, no randomness: `now` and
 * jitter come in with the input, so every rule of SPEC §1 "Semantics" is testable exactly.
 */
import type { CompiledNode, CompiledWorkflow } from '../compiled.ts';
import type { ErrorInfo } from '../errors.ts';
import type { CostReport } from '../events.ts';
import type { GateDecision } from '../executor.ts';
import { isTerminalRunStatus } from '../status.ts';
import {
  CHILD_RUN_PRINCIPAL,
  cancelItems,
  expandMap,
  itemDecided,
  itemFailed,
  itemGateTimedOut,
  itemLeaseExpired,
  itemRetryDue,
  itemSucceeded,
  itemWaiting,
  type MapHost,
  pumpMaps,
  recoverMap,
} from './map.ts';
import { retryDelayMs, willRetry } from './retry.ts';
import type { Effect, NodeState, RunState, SchedulerInput } from './types.ts';

/** The principal recorded when a gate decides itself on timeout. */
export const GATE_TIMEOUT_PRINCIPAL = 'trellis:timeout';

/** Recoveries in a row that find a node in flight before it is quarantined with CRASHED. */
export const DEFAULT_MAX_RECOVERIES = 3;

export function createRunState(runId: string, compiled: CompiledWorkflow): RunState {
  return {
    runId,
    compiled,
    status: 'queued',
    nodes: compiled.nodes.map((n) => ({
      status: 'pending',
      attempt: 0,
      pendingIn: n.incoming.length,
      takenIn: 0,
      leaseLosses: 0,
      recoveries: 0,
      interrupted: false,
      output: undefined,
      error: null,
      costUsd: 0,
      taken: null,
      approval: null,
      map: null,
    })),
    queue: [],
    maps: [],
    running: 0,
    retrying: 0,
    waiting: 0,
    resolved: 0,
    costUsd: 0,
    finishing: false,
    error: null,
  };
}

export function decide(run: RunState, input: SchedulerInput, now: number): Effect[] {
  const out: Effect[] = [];
  const t = new Transition(run, now, out);
  t.apply(input);
  return out;
}

class Transition implements MapHost {
  readonly compiled: CompiledWorkflow;

  constructor(
    readonly run: RunState,
    readonly now: number,
    readonly out: Effect[],
  ) {
    this.compiled = run.compiled;
  }

  apply(input: SchedulerInput): void {
    const run = this.run;
    if (isTerminalRunStatus(run.status)) return;
    if ('item' in input && input.item !== undefined) {
      this.applyItem(input, input.item);
      this.settle();
      return;
    }
    switch (input.type) {
      case 'start':
        return this.start();
      case 'attempt.succeeded':
        return this.succeeded(input.node, input.attempt, input.output, input.cost, input.durationMs, input.taken);
      case 'attempt.failed':
        return this.failed(input.node, input.attempt, input.error, input.cost, input.taken, input.random ?? 0.5);
      case 'attempt.waiting':
        return this.waiting(input.node, input.attempt, input.prompt, input.waitUntil);
      case 'gate.decided':
        return this.gateDecided(input.node, input.decision);
      case 'timer.fired':
        return input.kind === 'retry' ? this.retryDue(input.node) : this.gateTimedOut(input.node);
      case 'run.deadline':
        return this.failRun({ code: 'RUN_TIMEOUT', message: 'the run exceeded settings.timeoutMs' });
      case 'cancel':
        return this.cancel(input.reason);
      case 'lease.expired':
        return this.leaseExpired(input.node, input.attempt);
      case 'output.resolved':
        return this.outputResolved(input.output);
      case 'output.failed':
        return this.failRun(input.error);
      case 'recover':
        return this.recover(input.maxRecoveries ?? DEFAULT_MAX_RECOVERIES);
      case 'map.expanded':
        expandMap(this, input.node, input.attempt, input.count);
        return this.settle();
      default: {
        const never: never = input;
        throw new Error(`unhandled scheduler input ${JSON.stringify(never)}`);
      }
    }
  }

  /** An input about one item of a map node (see map.ts). */
  private applyItem(input: SchedulerInput, item: number): void {
    switch (input.type) {
      case 'attempt.succeeded':
        return itemSucceeded(this, input.node, item, input.attempt, input.output, input.cost, input.durationMs);
      case 'attempt.failed':
        return itemFailed(this, input.node, item, input.attempt, input.error, input.cost, input.random ?? 0.5);
      case 'attempt.waiting':
        return itemWaiting(this, input.node, item, input.attempt, input.prompt, input.waitUntil);
      case 'gate.decided':
        return itemDecided(this, input.node, item, input.decision);
      case 'timer.fired':
        return input.kind === 'retry'
          ? itemRetryDue(this, input.node, item)
          : itemGateTimedOut(this, input.node, item, GATE_TIMEOUT_PRINCIPAL);
      case 'lease.expired':
        return itemLeaseExpired(this, input.node, item, input.attempt);
      default:
        return;
    }
  }

  // ── run lifecycle ──────────────────────────────────────────────────────────

  private start(): void {
    const run = this.run;
    if (run.status !== 'queued') return;
    run.status = 'running';
    this.out.push({ type: 'run.patch', patch: { status: 'running', startedAt: this.now } });
    this.out.push({ type: 'event', event: { type: 'run.started', data: {} } });
    if (run.resolved === 0) for (const i of this.compiled.entries) this.enqueue(i);
    else this.startAfterReuse();
    this.settle();
  }

  /**
   * After a restart (state rebuilt from rows): attempts that were running belong to a dead
   * worker, so they fail by lease and run again as a new attempt; queued nodes start.
   *
   * Poison-run quarantine: a node found in flight after an unclean stop for the
   * `maxRecoveries`-th time in a row (its processing may be what kills the process) fails with
   * CRASHED instead of running again. Stops by a clean shutdown do not count.
   */
  private recover(maxRecoveries: number): void {
    const run = this.run;
    if (run.status === 'queued') return this.start();
    for (let i = 0; i < run.nodes.length; i++) {
      const n = run.nodes[i]!;
      if (n.status !== 'running') continue;
      if (n.map) {
        recoverMap(this, i);
        continue;
      }
      if (n.interrupted) {
        n.interrupted = false;
        this.out.push({ type: 'node.patch', node: i, patch: { interrupted: false } });
      } else {
        n.recoveries++;
        this.out.push({ type: 'node.patch', node: i, patch: { recoveries: n.recoveries } });
        if (n.recoveries >= maxRecoveries) {
          const times = n.recoveries === 1 ? 'once' : `${n.recoveries} times in a row`;
          this.failed(
            i,
            n.attempt,
            {
              code: 'CRASHED',
              message: `the process stopped ${times} while this node was running (last in attempt ${n.attempt}); it is not run again, since running it may be what stops the process — fix the workflow or its input, then retry the run`,
              retryable: false,
              details: { recoveries: n.recoveries, attempt: n.attempt },
            },
            undefined,
            undefined,
            0,
          );
          if (isTerminalRunStatus(run.status)) return;
          continue;
        }
      }
      this.leaseExpired(i, n.attempt);
    }
    this.settle();
  }

  /** An attempt ended by itself (not by a stop of its process): the quarantine count restarts. */
  private endedByItself(i: number): void {
    const n = this.run.nodes[i]!;
    if (n.recoveries === 0) return;
    n.recoveries = 0;
    this.out.push({ type: 'node.patch', node: i, patch: { recoveries: 0 } });
  }

  private outputResolved(output: unknown): void {
    const run = this.run;
    if (!run.finishing) return;
    run.status = 'succeeded';
    this.out.push({ type: 'run.patch', patch: { status: 'succeeded', output, finishedAt: this.now } });
    this.out.push({ type: 'event', event: { type: 'run.succeeded', data: { output } } });
    this.out.push({ type: 'run.finished', status: 'succeeded' });
  }

  private failRun(error: ErrorInfo): void {
    const run = this.run;
    this.cancelOutstanding(error);
    run.status = 'failed';
    run.error = error;
    this.out.push({ type: 'run.patch', patch: { status: 'failed', error, finishedAt: this.now } });
    this.out.push({ type: 'event', event: { type: 'run.failed', data: { error } } });
    this.out.push({ type: 'run.finished', status: 'failed' });
  }

  private cancel(reason: string | undefined): void {
    const run = this.run;
    this.cancelOutstanding({ code: 'CANCELLED', message: reason ?? 'the run was cancelled' });
    run.status = 'cancelled';
    this.out.push({ type: 'run.patch', patch: { status: 'cancelled', finishedAt: this.now } });
    this.out.push({ type: 'event', event: { type: 'run.cancelled', data: reason === undefined ? {} : { reason } } });
    this.out.push({ type: 'run.finished', status: 'cancelled' });
  }

  /** Cancels every node that has not resolved; running and waiting attempts are aborted. */
  private cancelOutstanding(error: ErrorInfo): void {
    const run = this.run;
    const nodes = this.compiled.nodes;
    for (let i = 0; i < run.nodes.length; i++) {
      const n = run.nodes[i]!;
      if (n.map && n.status === 'running') cancelItems(this, i, error);
      switch (n.status) {
        case 'succeeded':
        case 'failed':
        case 'skipped':
        case 'cancelled':
          continue;
        case 'running':
        case 'waiting':
          // (A waiting node at attempt 0 is a retry's approval: nothing has run, nothing to abort.)
          if (n.attempt > 0) {
            this.out.push({ type: 'attempt.abort', node: i, attempt: n.attempt, error });
            this.out.push({ type: 'attempt.finish', node: i, attempt: n.attempt, status: 'cancelled', error });
          }
          if (n.status === 'waiting') this.out.push({ type: 'timer.clear', node: i, kind: 'gate_timeout' });
          break;
        case 'retrying':
          this.out.push({ type: 'timer.clear', node: i, kind: 'retry' });
          break;
        case 'pending':
        case 'queued':
          break;
        default: {
          const never: never = n.status;
          throw new Error(`unhandled node status ${String(never)}`);
        }
      }
      const attempt = n.attempt > 0 ? n.attempt : undefined;
      n.status = 'cancelled';
      this.out.push({
        type: 'node.patch',
        node: i,
        patch: { status: 'cancelled', finishedAt: this.now, nextAttemptAt: null, waitUntil: null },
      });
      this.out.push({
        type: 'event',
        event: { type: 'node.cancelled', nodeId: nodes[i]!.id, data: attempt === undefined ? {} : { attempt } },
      });
    }
    run.queue.length = 0;
    run.maps.length = 0;
    run.running = 0;
    run.retrying = 0;
    run.waiting = 0;
  }

  // ── node lifecycle ─────────────────────────────────────────────────────────

  /** A node that will run: announce it queued, then start it if concurrency allows. */
  private enqueue(i: number): void {
    const n = this.run.nodes[i]!;
    if (n.approval !== null && n.attempt === 0) return this.awaitApproval(i, n.approval);
    n.status = 'queued';
    this.out.push({ type: 'node.patch', node: i, patch: { status: 'queued' } });
    this.out.push({ type: 'event', event: { type: 'node.queued', nodeId: this.compiled.nodes[i]!.id, data: {} } });
    if (this.hasCapacity()) this.startAttempt(i);
    else this.run.queue.push(i);
  }

  hasCapacity(): boolean {
    const max = this.compiled.definition.settings?.maxConcurrency;
    return max === undefined || this.run.running < max;
  }

  private startAttempt(i: number): void {
    const n = this.run.nodes[i]!;
    const first = n.attempt === 0;
    n.attempt += 1;
    n.status = 'running';
    this.run.running++;
    this.out.push({
      type: 'node.patch',
      node: i,
      patch: first
        ? { status: 'running', attempt: n.attempt, startedAt: this.now }
        : { status: 'running', attempt: n.attempt, nextAttemptAt: null },
    });
    this.out.push({
      type: 'event',
      event: { type: 'node.started', nodeId: this.compiled.nodes[i]!.id, data: { attempt: n.attempt } },
    });
    this.out.push({ type: 'attempt.start', node: i, attempt: n.attempt });
  }

  /** True when the input concerns the node's current running attempt (fencing by attempt number). */
  private isCurrent(i: number, attempt: number, status: 'running' | 'waiting' = 'running'): boolean {
    const n = this.run.nodes[i];
    return n !== undefined && n.status === status && n.attempt === attempt;
  }

  private succeeded(
    i: number,
    attempt: number,
    output: unknown,
    cost: CostReport | undefined,
    durationMs: number,
    taken: number[],
  ): void {
    if (!this.isCurrent(i, attempt)) return;
    const n = this.run.nodes[i]!;
    const node = this.compiled.nodes[i]!;
    this.endedByItself(i);
    this.run.running--;
    n.status = 'succeeded';
    n.output = output;
    n.taken = taken;
    const costUsd = cost?.costUsd ?? 0;
    n.costUsd += costUsd;
    this.out.push({ type: 'attempt.finish', node: i, attempt, status: 'succeeded', cost });
    this.out.push({
      type: 'node.patch',
      node: i,
      patch: { status: 'succeeded', output, error: null, costUsd: n.costUsd, finishedAt: this.now, taken },
    });
    this.out.push({
      type: 'event',
      event: { type: 'node.succeeded', nodeId: node.id, data: { output, durationMs, cost: cost ?? null, attempt } },
    });
    if (this.addCost(costUsd)) return;
    this.resolve(i);
    this.settle();
  }

  private failed(
    i: number,
    attempt: number,
    error: ErrorInfo,
    cost: CostReport | undefined,
    taken: number[] | undefined,
    random: number,
  ): void {
    if (!this.isCurrent(i, attempt)) return;
    const n = this.run.nodes[i]!;
    const node = this.compiled.nodes[i]!;
    if (error.code !== 'CRASHED') this.endedByItself(i);
    this.run.running--;
    const costUsd = cost?.costUsd ?? 0;
    n.costUsd += costUsd;
    n.error = error;
    this.out.push({ type: 'attempt.finish', node: i, attempt, status: 'failed', error, cost });
    if (this.addCost(costUsd)) return;

    if (willRetry(node, attempt, n.leaseLosses, error)) {
      const delayMs = retryDelayMs(node, attempt - n.leaseLosses, error, random);
      n.status = 'retrying';
      this.run.retrying++;
      const dueAt = this.now + delayMs;
      this.out.push({
        type: 'node.patch',
        node: i,
        patch: { status: 'retrying', error, costUsd: n.costUsd, nextAttemptAt: dueAt },
      });
      this.out.push({ type: 'event', event: { type: 'node.retrying', nodeId: node.id, data: { attempt, delayMs, error } } });
      this.out.push({ type: 'timer.set', node: i, kind: 'retry', dueAt });
      this.settle();
      return;
    }

    n.status = 'failed';
    this.out.push({ type: 'event', event: { type: 'node.failed', nodeId: node.id, data: { error, attempt } } });
    if (node.onError === 'continue') {
      const output = { error: { code: error.code, message: error.message } };
      n.output = output;
      n.taken = taken ?? unconditionalEdges(this.compiled, node);
      this.out.push({
        type: 'node.patch',
        node: i,
        patch: { status: 'failed', output, error, costUsd: n.costUsd, finishedAt: this.now, taken: n.taken },
      });
      this.resolve(i);
      this.settle();
      return;
    }
    this.out.push({ type: 'node.patch', node: i, patch: { status: 'failed', error, costUsd: n.costUsd, finishedAt: this.now } });
    this.run.resolved++;
    this.failRun({ code: error.code, message: `node '${node.id}' failed: ${error.message}`, details: { nodeId: node.id } });
  }

  private waiting(i: number, attempt: number, prompt: string, waitUntil: number | null): void {
    if (!this.isCurrent(i, attempt)) return;
    const n = this.run.nodes[i]!;
    const node = this.compiled.nodes[i]!;
    this.endedByItself(i);
    this.run.running--;
    this.run.waiting++;
    n.status = 'waiting';
    this.out.push({ type: 'node.patch', node: i, patch: { status: 'waiting', prompt, waitUntil } });
    this.out.push({ type: 'event', event: { type: 'node.waiting', nodeId: node.id, data: { prompt, attempt } } });
    if (waitUntil !== null) this.out.push({ type: 'timer.set', node: i, kind: 'gate_timeout', dueAt: waitUntil });
    this.settle();
  }

  private gateDecided(i: number, decision: GateDecision): void {
    const n = this.run.nodes[i];
    if (n === undefined || n.status !== 'waiting') return;
    if (n.attempt === 0) return this.approvalDecided(i, decision);
    const node = this.compiled.nodes[i]!;
    this.run.waiting--;
    this.run.running++;
    n.status = 'running';
    this.out.push({ type: 'timer.clear', node: i, kind: 'gate_timeout' });
    // A `workflow` node resumed because its child run moved on is no human decision: no gate event.
    if (decision.by !== CHILD_RUN_PRINCIPAL)
      this.out.push({
        type: 'event',
        event: decision.approved
          ? {
              type: 'gate.approved',
              nodeId: node.id,
              data: compact({ by: decision.by, comment: decision.comment, data: decision.data }),
            }
          : { type: 'gate.rejected', nodeId: node.id, data: compact({ by: decision.by, comment: decision.comment }) },
      });
    this.out.push({
      type: 'node.patch',
      node: i,
      patch: { status: 'running', prompt: null, waitUntil: null, clearDecision: true },
    });
    if (this.run.status === 'waiting') {
      this.run.status = 'running';
      this.out.push({ type: 'run.patch', patch: { status: 'running' } });
    }
    this.out.push({ type: 'attempt.resume', node: i, attempt: n.attempt, decision });
  }

  private gateTimedOut(i: number): void {
    const n = this.run.nodes[i];
    if (n === undefined || n.status !== 'waiting') return;
    const def = this.compiled.nodes[i]!.def;
    const approve = def.type === 'human_gate' && def.onTimeout === 'approve';
    this.gateDecided(i, { approved: approve, by: GATE_TIMEOUT_PRINCIPAL, comment: 'the gate timed out' });
  }

  private retryDue(i: number): void {
    const n = this.run.nodes[i];
    if (n === undefined || n.status !== 'retrying') return;
    this.run.retrying--;
    if (this.hasCapacity()) this.startAttempt(i);
    else {
      n.status = 'queued';
      this.out.push({ type: 'node.patch', node: i, patch: { status: 'queued', nextAttemptAt: null } });
      this.run.queue.push(i);
    }
  }

  private leaseExpired(i: number, attempt: number): void {
    if (!this.isCurrent(i, attempt)) return;
    const n = this.run.nodes[i]!;
    const node = this.compiled.nodes[i]!;
    const error: ErrorInfo = {
      code: 'LEASE_EXPIRED',
      message: 'the worker running this attempt stopped; retrying',
      retryable: true,
    };
    this.run.running--;
    n.leaseLosses++;
    this.out.push({ type: 'attempt.finish', node: i, attempt, status: 'failed', error, leaseLost: true });
    this.out.push({ type: 'event', event: { type: 'node.retrying', nodeId: node.id, data: { attempt, delayMs: 0, error } } });
    this.startAttempt(i);
  }

  // ── propagation ────────────────────────────────────────────────────────────

  /**
   * Node `i` resolved: deliver its outgoing edges (taken or not) to its successors and decide
   * every node that thereby becomes ready. Iterative (a worklist), so a long chain of skips
   * cannot overflow the stack.
   */
  private resolve(first: number): void {
    this.propagate([first]);
  }

  private propagate(work: number[]): void {
    const run = this.run;
    const { nodes: cnodes, edges } = this.compiled;
    while (work.length > 0) {
      const i = work.pop()!;
      run.resolved++;
      const n = run.nodes[i]!;
      const out = cnodes[i]!.outgoing;
      const taken = n.taken === null || n.taken.length < 16 ? n.taken : new Set(n.taken);
      for (const e of out) {
        const s = edges[e]!.to;
        const sn = run.nodes[s]!;
        sn.pendingIn--;
        if (taken !== null && (Array.isArray(taken) ? taken.includes(e) : taken.has(e))) sn.takenIn++;
        if (sn.status !== 'pending') continue; // a join "any" that already started
        this.decideReady(s, work);
      }
    }
  }

  /** A pending node whose incoming edges changed: run it, skip it (onto `work`), or keep waiting. */
  private decideReady(s: number, work: number[]): void {
    const sn = this.run.nodes[s]!;
    const cs = this.compiled.nodes[s]!;
    if (cs.joinMode === 'any') {
      if (sn.takenIn > 0) this.enqueue(s);
      else if (sn.pendingIn === 0) this.skip(s, work);
      return;
    }
    if (sn.pendingIn > 0) return;
    const runs = cs.joinMode === 'all' ? sn.takenIn > 0 : sn.takenIn === cs.incoming.length;
    if (runs) this.enqueue(s);
    else this.skip(s, work);
  }

  private skip(i: number, work: number[]): void {
    const n = this.run.nodes[i]!;
    n.status = 'skipped';
    n.output = null;
    n.taken = [];
    this.out.push({ type: 'node.patch', node: i, patch: { status: 'skipped', finishedAt: this.now, taken: [] } });
    this.out.push({ type: 'event', event: { type: 'node.skipped', nodeId: this.compiled.nodes[i]!.id, data: {} } });
    work.push(i);
  }

  /** Adds cost to the run; returns true when the budget is exceeded (the run has then failed). */
  addCost(costUsd: number): boolean {
    if (!(costUsd > 0)) return false;
    const run = this.run;
    run.costUsd += costUsd;
    this.out.push({ type: 'run.patch', patch: { costUsd: run.costUsd } });
    this.out.push({ type: 'event', event: { type: 'run.cost', data: { totalUsd: run.costUsd } } });
    const max = this.compiled.definition.settings?.maxCostUsd;
    if (max !== undefined && run.costUsd > max) {
      this.failRun({
        code: 'BUDGET_EXCEEDED',
        message: `the run cost $${run.costUsd.toFixed(4)}, over settings.maxCostUsd $${max}`,
        details: { costUsd: run.costUsd, maxCostUsd: max },
      });
      return true;
    }
    return false;
  }

  /** After any change: start queued nodes that now fit, then update the run's status. */
  private settle(): void {
    const run = this.run;
    if (isTerminalRunStatus(run.status)) return;
    while (run.queue.length > 0 && this.hasCapacity()) {
      const i = run.queue.shift()!;
      if (run.nodes[i]!.status === 'queued') this.startAttempt(i);
    }
    if (run.maps.length > 0) pumpMaps(this);
    if (run.resolved === run.nodes.length) {
      if (!run.finishing) {
        run.finishing = true;
        this.out.push({ type: 'output.resolve' });
      }
      return;
    }
    const idle = run.running === 0 && run.retrying === 0 && run.queue.length === 0;
    if (idle && run.waiting > 0 && run.status === 'running') {
      run.status = 'waiting';
      this.out.push({ type: 'run.patch', patch: { status: 'waiting' } });
      this.out.push({ type: 'event', event: { type: 'run.waiting', data: {} } });
    }
  }

  // ── retries (docs/retry.md) ────────────────────────────────────────────────

  /**
   * A retry starts with the nodes it reused already resolved (their rows were written when the
   * run was created). Its first frontier is every pending node whose incoming edges are decided,
   * judged exactly as `propagate` judges them, so conditions and joins see the reused outputs.
   */
  private startAfterReuse(): void {
    const run = this.run;
    const work: number[] = [];
    for (const i of this.compiled.order) {
      const n = run.nodes[i]!;
      if (n.status !== 'pending') continue;
      if (this.compiled.nodes[i]!.incoming.length === 0) this.enqueue(i);
      else this.decideReady(i, work);
      if (work.length > 0) this.propagate(work);
    }
  }

  /** An irreversible node in a retry's rerun set: wait for a person before its first attempt. */
  private awaitApproval(i: number, prompt: string): void {
    const n = this.run.nodes[i]!;
    n.status = 'waiting';
    this.run.waiting++;
    this.out.push({ type: 'node.patch', node: i, patch: { status: 'waiting', prompt, waitUntil: null } });
    this.out.push({
      type: 'event',
      event: { type: 'node.waiting', nodeId: this.compiled.nodes[i]!.id, data: { prompt, attempt: 0 } },
    });
  }

  /** The decision on a retry's automatic approval: approved runs the node, rejected fails it (GATE_REJECTED). */
  private approvalDecided(i: number, decision: GateDecision): void {
    const run = this.run;
    const n = run.nodes[i]!;
    const node = this.compiled.nodes[i]!;
    run.waiting--;
    n.approval = null;
    this.out.push({
      type: 'event',
      event: decision.approved
        ? { type: 'gate.approved', nodeId: node.id, data: compact({ by: decision.by, comment: decision.comment }) }
        : { type: 'gate.rejected', nodeId: node.id, data: compact({ by: decision.by, comment: decision.comment }) },
    });
    if (run.status === 'waiting') {
      run.status = 'running';
      this.out.push({ type: 'run.patch', patch: { status: 'running' } });
    }
    if (decision.approved) {
      this.out.push({ type: 'node.patch', node: i, patch: { prompt: null, clearDecision: true } });
      this.enqueue(i);
      this.settle();
      return;
    }
    const error: ErrorInfo = {
      code: 'GATE_REJECTED',
      message: `${decision.by} did not approve running '${node.id}' again${decision.comment ? `: ${decision.comment}` : ''}`,
    };
    n.status = 'failed';
    n.error = error;
    this.out.push({ type: 'event', event: { type: 'node.failed', nodeId: node.id, data: { error, attempt: 0 } } });
    if (node.onError === 'continue') {
      const output = { error: { code: error.code, message: error.message } };
      n.output = output;
      n.taken = unconditionalEdges(this.compiled, node);
      this.out.push({
        type: 'node.patch',
        node: i,
        patch: { status: 'failed', output, error, prompt: null, clearDecision: true, finishedAt: this.now, taken: n.taken },
      });
      this.resolve(i);
      this.settle();
      return;
    }
    this.out.push({
      type: 'node.patch',
      node: i,
      patch: { status: 'failed', error, prompt: null, clearDecision: true, finishedAt: this.now },
    });
    run.resolved++;
    this.failRun({ code: error.code, message: `node '${node.id}' failed: ${error.message}`, details: { nodeId: node.id } });
  }
}

function unconditionalEdges(compiled: CompiledWorkflow, node: CompiledNode): number[] {
  return node.outgoing.filter((e) => compiled.edges[e]!.condition === undefined);
}

function compact<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/** Node states a shell may inspect (read-only view for tests and recovery). */
export type { NodeState };
