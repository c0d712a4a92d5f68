/**
 * The pure scheduler tested as pure: random DAGs (conditions, joins `all`/`any`, human gates,
 * retries, `onError: "continue"`, concurrency limits, budgets) driven through `decide` by a
 * random sequence of inputs — attempts finishing in any order, failing (retryable or not),
 * gates decided or timing out, leases expiring, late (stale) results, cancellation, run
 * deadlines — with no database, no executor and no clock. A small model of the shell carries
 * the effects (attempts in flight, timers, output resolution) and the invariants are checked
 * on every effect:
 *
 * - every node ends in exactly one terminal status (one terminal event, matching its state);
 * - a skipped node never started (no queued/started/attempt for it);
 * - join semantics: a plain node runs only when all its incoming edges were taken, `all` when
 *   every predecessor resolved and at least one edge was taken, `any` as soon as one was;
 *   a node is skipped only when those rules say so;
 * - nothing starts, resumes or changes after the run reached a terminal status;
 * - the run's cost never decreases and never exceeds what the attempts reported.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CompiledWorkflow,
  compile,
  createRunState,
  decide,
  type Effect,
  type ErrorInfo,
  isResolvedNodeStatus,
  isTerminalRunStatus,
  type NodeStatus,
  type RunState,
  type SchedulerInput,
} from '../src/index.ts';

// ── random workflows ─────────────────────────────────────────────────────────

interface NodeSpec {
  kind: 'task' | 'gate';
  join: 'none' | 'all' | 'any';
  onError: 'fail' | 'continue';
  maxAttempts: number;
  gateTimeout: boolean;
}
interface Spec {
  nodes: NodeSpec[];
  /** Forward edges (from < to); `cond` edges are taken or not at random when their source resolves. */
  edges: { from: number; to: number; cond: boolean }[];
  maxConcurrency: number | undefined;
  maxCostUsd: number | undefined;
}

const specArb: fc.Arbitrary<Spec> = fc.integer({ min: 1, max: 10 }).chain((n) =>
  fc.record({
    nodes: fc.array(
      fc.record({
        kind: fc.constantFrom<NodeSpec['kind']>('task', 'task', 'task', 'gate'),
        join: fc.constantFrom<NodeSpec['join']>('none', 'none', 'all', 'any'),
        onError: fc.constantFrom<NodeSpec['onError']>('fail', 'continue', 'continue'),
        maxAttempts: fc.integer({ min: 1, max: 3 }),
        gateTimeout: fc.boolean(),
      }),
      { minLength: n, maxLength: n },
    ),
    edges: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.boolean()), { maxLength: n * 2 }).map((raw) => {
      const seen = new Set<string>();
      const out: Spec['edges'] = [];
      const add = (from: number, to: number, cond: boolean) => {
        if (from === to || seen.has(`${from}>${to}`)) return;
        seen.add(`${from}>${to}`);
        out.push({ from, to, cond });
      }; // every node after the first hangs off an earlier one: no isolated node
      for (let to = 1; to < n; to++) add((raw[to]?.[0] ?? 0) % to, to, raw[to]?.[2] ?? false);
      for (const [a, b, cond] of raw) {
        if (n < 2) break;
        const x = a % n;
        const y = b % n;
        if (x !== y) add(Math.min(x, y), Math.max(x, y), cond);
      }
      return out;
    }),
    maxConcurrency: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    maxCostUsd: fc.option(fc.constantFrom(0.5, 2, 5), { nil: undefined }),
  }),
);

function toDefinition(spec: Spec) {
  const incoming = new Map<number, number>();
  for (const e of spec.edges) incoming.set(e.to, (incoming.get(e.to) ?? 0) + 1);
  return {
    name: 'scheduler-property',
    settings: {
      ...(spec.maxConcurrency === undefined ? {} : { maxConcurrency: spec.maxConcurrency }),
      ...(spec.maxCostUsd === undefined ? {} : { maxCostUsd: spec.maxCostUsd }),
    },
    nodes: spec.nodes.map((s, i) => {
      const retry = { maxAttempts: s.maxAttempts, initialDelayMs: 10, backoffFactor: 2, maxDelayMs: 100 };
      // A join needs predecessors; an entry node marked as a join stays a plain task.
      if (s.join !== 'none' && (incoming.get(i) ?? 0) > 0) return { id: `n${i}`, type: 'join', mode: s.join, onError: s.onError };
      if (s.kind === 'gate')
        return {
          id: `n${i}`,
          type: 'human_gate',
          prompt: 'go on?',
          onError: s.onError,
          ...(s.gateTimeout ? { timeoutMs: 1000, onTimeout: 'approve' } : {}),
        };
      return { id: `n${i}`, type: 'transform', expression: '1', onError: s.onError, retry };
    }),
    edges: spec.edges.map((e) => ({ from: `n${e.from}`, to: `n${e.to}`, ...(e.cond ? { condition: 'true' } : {}) })),
  };
}

// ── the model shell ──────────────────────────────────────────────────────────

const TERMINAL_EVENTS = new Set(['node.succeeded', 'node.failed', 'node.skipped', 'node.cancelled']);
const EVENT_STATUS: Record<string, NodeStatus> = {
  'node.succeeded': 'succeeded',
  'node.failed': 'failed',
  'node.skipped': 'skipped',
  'node.cancelled': 'cancelled',
};

/** What the shell knows: attempts in flight, timers, and what each node did. */
class Shell {
  readonly state: RunState;
  now = 1_000_000;
  /** node → attempt executing (started or resumed), with the decision it resumed with. */
  readonly running = new Map<number, { attempt: number; decision?: { approved: boolean } }>();
  /** node → attempt waiting for a decision. */
  readonly waiting = new Map<number, number>();
  readonly timers = new Map<string, { node: number; kind: 'retry' | 'gate_timeout' }>();
  /** Attempts that ended, kept to feed stale results. */
  readonly ended: { node: number; attempt: number }[] = [];
  outputPending = false;
  finished: 'succeeded' | 'failed' | 'cancelled' | undefined;
  readonly runTerminalEvents: string[] = [];
  /** Per node: its terminal events, and whether it was ever queued/started. */
  readonly terminal: string[][];
  readonly started: boolean[];
  /** Per node: the outgoing edges it took (known once it resolved), or undefined while unresolved. */
  readonly taken: (ReadonlySet<number> | undefined)[];
  /** Every cost the inputs reported (an upper bound of the run's cost). */
  reportedCost = 0;
  lastCost = 0;

  constructor(readonly compiled: CompiledWorkflow) {
    this.state = createRunState('run-1', compiled);
    this.terminal = compiled.nodes.map(() => []);
    this.started = compiled.nodes.map(() => false);
    this.taken = compiled.nodes.map(() => undefined);
  }

  /** Feeds one input and checks every effect it produced. */
  feed(input: SchedulerInput): void {
    const wasTerminal = isTerminalRunStatus(this.state.status);
    const effects = decide(this.state, input, this.now);
    if (wasTerminal) {
      expect(effects, `input ${input.type} after the run ended produced effects`).toEqual([]);
      return;
    }
    for (const fx of effects) this.carry(fx);
    expect(this.state.costUsd).toBeGreaterThanOrEqual(this.lastCost);
    this.lastCost = this.state.costUsd;
    expect(this.state.costUsd).toBeLessThanOrEqual(this.reportedCost + 1e-9);
  }

  private carry(fx: Effect): void {
    if (this.finished !== undefined) {
      // After run.finished nothing may follow that starts work or changes the run.
      throw new Error(`effect ${JSON.stringify(fx)} after run.finished`);
    }
    const nodes = this.compiled.nodes;
    switch (fx.type) {
      case 'event': {
        const ev = fx.event;
        if (ev.type === 'run.cost') {
          const total = (ev.data as { totalUsd: number }).totalUsd;
          expect(total).toBeGreaterThanOrEqual(this.lastCost);
        }
        if (ev.type === 'run.succeeded' || ev.type === 'run.failed' || ev.type === 'run.cancelled')
          this.runTerminalEvents.push(ev.type);
        if (!('nodeId' in ev) || ev.nodeId === undefined) return;
        const i = nodes.findIndex((n) => n.id === ev.nodeId);
        expect(i).toBeGreaterThanOrEqual(0);
        if (ev.type === 'node.queued' || ev.type === 'node.started') {
          this.started[i] = true;
          if (ev.type === 'node.queued') this.checkReady(i, 'run');
        }
        if (TERMINAL_EVENTS.has(ev.type)) {
          this.terminal[i]!.push(ev.type);
          if (ev.type === 'node.skipped') {
            expect(this.started[i], `${ev.nodeId} skipped after it started`).toBe(false);
            this.checkReady(i, 'skip');
          }
          this.taken[i] ??= new Set();
        }
        return;
      }
      case 'node.patch':
        if (fx.patch.taken !== undefined && fx.patch.taken !== null) this.taken[fx.node] = new Set(fx.patch.taken);
        if (fx.patch.status === 'skipped') expect(this.started[fx.node]).toBe(false);
        return;
      case 'run.patch':
        if (fx.patch.costUsd !== undefined) expect(fx.patch.costUsd).toBeGreaterThanOrEqual(this.lastCost);
        return;
      case 'attempt.start':
        expect(this.started[fx.node], `attempt of n${fx.node} without node.started`).toBe(true);
        this.running.set(fx.node, { attempt: fx.attempt });
        return;
      case 'attempt.resume':
        expect(this.waiting.get(fx.node)).toBe(fx.attempt);
        this.waiting.delete(fx.node);
        this.running.set(fx.node, { attempt: fx.attempt, decision: { approved: fx.decision.approved } });
        return;
      case 'attempt.finish':
      case 'attempt.abort': {
        const r = this.running.get(fx.node);
        if (r?.attempt === fx.attempt) this.running.delete(fx.node);
        if (this.waiting.get(fx.node) === fx.attempt) this.waiting.delete(fx.node);
        this.ended.push({ node: fx.node, attempt: fx.attempt });
        return;
      }
      case 'timer.set':
        this.timers.set(`${fx.kind}:${fx.node}`, { node: fx.node, kind: fx.kind });
        return;
      case 'timer.clear':
        this.timers.delete(`${fx.kind}:${fx.node}`);
        return;
      case 'output.resolve':
        this.outputPending = true;
        return;
      case 'run.finished':
        this.finished = fx.status;
        return;
      case 'map.finish':
        throw new Error('no map nodes in these workflows');
      default: {
        const never: never = fx;
        throw new Error(`unhandled effect ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * The join rules, checked against what the predecessors resolved to: a node is queued only
   * when it may run, and skipped only when it may not.
   */
  private checkReady(i: number, what: 'run' | 'skip'): void {
    const cn = this.compiled.nodes[i]!;
    const preds = cn.incoming.map((e) => ({ e, from: this.compiled.edges[e]!.from }));
    const resolved = preds.filter((p) => this.taken[p.from] !== undefined);
    const takenIn = resolved.filter((p) => this.taken[p.from]!.has(p.e)).length;
    const allResolved = resolved.length === preds.length;
    const id = cn.id;
    if (preds.length === 0) {
      expect(what, `entry ${id} skipped`).toBe('run');
      return;
    }
    if (cn.joinMode === 'any') {
      if (what === 'run') expect(takenIn, `join any ${id} ran with no edge taken`).toBeGreaterThan(0);
      else expect(allResolved && takenIn === 0, `join any ${id} skipped too early or with an edge taken`).toBe(true);
      return;
    }
    expect(allResolved, `${id} decided before all its predecessors resolved`).toBe(true);
    if (cn.joinMode === 'all')
      expect(takenIn > 0, `join all ${id}: ${takenIn} edges taken, decided ${what}`).toBe(what === 'run');
    else expect(takenIn === preds.length, `${id}: ${takenIn}/${preds.length} edges taken, decided ${what}`).toBe(what === 'run');
  }
}

// ── the random driver ────────────────────────────────────────────────────────

/** One step's choices: which action, on which target, and its random parameters. */
const stepArb = fc.record({
  action: fc.integer({ min: 0, max: 99 }),
  pick: fc.nat(),
  cost: fc.constantFrom(0, 0, 0.1, 0.25, 1),
  edges: fc.nat(),
  retryable: fc.boolean(),
  random: fc.double({ min: 0, max: 0.999, noNaN: true }),
});
type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;

function pickFrom<T>(xs: readonly T[], n: number): T | undefined {
  return xs.length === 0 ? undefined : xs[n % xs.length];
}

/** The outgoing edges a success takes: unconditional ones always, conditional ones by the bits of `mask`. */
function takenEdges(compiled: CompiledWorkflow, node: number, mask: number): number[] {
  return compiled.nodes[node]!.outgoing.filter((e, k) => compiled.edges[e]!.condition === undefined || ((mask >> k) & 1) === 1);
}

/** Picks and feeds one input; returns false when the shell has nothing left to feed. */
function step(sh: Shell, s: Step): boolean {
  const { compiled } = sh;
  sh.now += 7;
  const running = [...sh.running.entries()];
  const waiting = [...sh.waiting.entries()];
  const timers = [...sh.timers.values()];
  const a = s.action;
  // Rare inputs first: they may come at any moment.
  if (a < 2) {
    sh.feed({ type: 'cancel', reason: 'property test' });
    return true;
  }
  if (a < 3) {
    sh.feed({ type: 'run.deadline' });
    return true;
  }
  if (a < 6) {
    const r = pickFrom(running, s.pick);
    if (r) {
      sh.feed({ type: 'lease.expired', node: r[0], attempt: r[1].attempt });
      return true;
    }
  }
  if (a < 10) {
    // A late result for an attempt that already ended (fenced by attempt number): ignored.
    const old = pickFrom(sh.ended, s.pick);
    if (old) {
      const before = JSON.stringify(snapshot(sh.state));
      sh.feed({
        type: 'attempt.succeeded',
        node: old.node,
        attempt: old.attempt,
        output: 'late',
        durationMs: 1,
        taken: takenEdges(compiled, old.node, s.edges),
      });
      expect(JSON.stringify(snapshot(sh.state)), 'a stale result changed the run').toBe(before);
      return true;
    }
  }
  if (sh.outputPending && a < 20) {
    sh.outputPending = false;
    sh.feed({ type: 'output.resolved', output: { ok: true } });
    return true;
  }
  if (a < 30) {
    const t = pickFrom(timers, s.pick);
    if (t) {
      sh.timers.delete(`${t.kind}:${t.node}`);
      sh.feed({ type: 'timer.fired', node: t.node, kind: t.kind });
      return true;
    }
  }
  if (a < 45) {
    const w = pickFrom(waiting, s.pick);
    if (w) {
      sh.feed({ type: 'gate.decided', node: w[0], decision: { approved: s.retryable || s.edges % 3 !== 0, by: 'tester' } });
      return true;
    }
  }
  const r = pickFrom(running, s.pick);
  if (r) {
    const [node, { attempt, decision }] = r;
    const def = compiled.nodes[node]!.def;
    const cost = s.cost > 0 ? { costUsd: s.cost } : undefined;
    if (def.type === 'human_gate' && decision === undefined) {
      sh.feed({
        type: 'attempt.waiting',
        node,
        attempt,
        prompt: 'go on?',
        waitUntil: def.timeoutMs ? sh.now + def.timeoutMs : null,
      });
      if (sh.state.nodes[node]!.status === 'waiting') sh.waiting.set(node, attempt);
      sh.running.delete(node);
      return true;
    }
    sh.running.delete(node);
    sh.ended.push({ node, attempt });
    sh.reportedCost += s.cost;
    const rejected = decision !== undefined && !decision.approved;
    if (rejected || (def.type !== 'human_gate' && a >= 80)) {
      const error: ErrorInfo = rejected
        ? { code: 'GATE_REJECTED', message: 'rejected' }
        : { code: s.retryable ? 'HTTP_503' : 'HTTP_400', message: 'boom', ...(s.retryable ? { retryable: true } : {}) };
      sh.feed({
        type: 'attempt.failed',
        node,
        attempt,
        error,
        cost,
        taken: takenEdges(compiled, node, s.edges),
        random: s.random,
      });
    } else {
      sh.feed({
        type: 'attempt.succeeded',
        node,
        attempt,
        output: { n: node },
        cost,
        durationMs: 3,
        taken: takenEdges(compiled, node, s.edges),
      });
    }
    return true;
  }
  // Nothing running: fire any timer, decide any gate, or resolve the output.
  const t = timers[0];
  if (t) {
    sh.timers.delete(`${t.kind}:${t.node}`);
    sh.feed({ type: 'timer.fired', node: t.node, kind: t.kind });
    return true;
  }
  const w = waiting[0];
  if (w) {
    sh.feed({ type: 'gate.decided', node: w[0], decision: { approved: true, by: 'tester' } });
    return true;
  }
  if (sh.outputPending) {
    sh.outputPending = false;
    sh.feed({ type: 'output.resolved', output: { ok: true } });
    return true;
  }
  return false;
}

function snapshot(s: RunState) {
  return {
    status: s.status,
    costUsd: s.costUsd,
    nodes: s.nodes.map((n) => [n.status, n.attempt, n.costUsd]),
    counters: [s.running, s.retrying, s.waiting, s.resolved, s.queue.length],
  };
}

function simulate(spec: Spec, steps: Step[]): Shell {
  const r = compile(toDefinition(spec));
  if (!r.ok) throw new Error(`generated an invalid workflow: ${JSON.stringify(r.errors)}`);
  const sh = new Shell(r.compiled);
  sh.feed({ type: 'start' });
  let k = 0;
  // The random tape first, then a tape that only ever finishes work: every run must end.
  while (!isTerminalRunStatus(sh.state.status) && k < 2000) {
    const s = steps[k] ?? { action: 50, pick: 0, cost: 0, edges: k, retryable: false, random: 0.5 };
    k++;
    if (!step(sh, s)) break;
  }
  return sh;
}

describe('decide, driven by random input sequences on random DAGs', () => {
  it('keeps the scheduling invariants', () => {
    fc.assert(
      fc.property(specArb, fc.array(stepArb, { maxLength: 80 }), (spec, steps) => {
        const sh = simulate(spec, steps);
        const { state, compiled } = sh;
        expect(isTerminalRunStatus(state.status), `run stuck in ${state.status}`).toBe(true);
        expect(sh.finished).toBe(state.status);
        expect(sh.runTerminalEvents).toEqual([`run.${state.status}`]);
        // Every node ends in exactly one terminal status, announced once, matching its state.
        for (let i = 0; i < compiled.nodes.length; i++) {
          const n = state.nodes[i]!;
          expect(isResolvedNodeStatus(n.status), `n${i} ended ${n.status}`).toBe(true);
          expect(sh.terminal[i], `n${i} terminal events`).toHaveLength(1);
          expect(EVENT_STATUS[sh.terminal[i]![0]!]).toBe(n.status);
          if (n.status === 'skipped') expect(sh.started[i]).toBe(false);
        }
        // A succeeded run: no node was cancelled, and only onError "continue" nodes failed.
        if (state.status === 'succeeded')
          for (let i = 0; i < compiled.nodes.length; i++) {
            const n = state.nodes[i]!;
            expect(n.status).not.toBe('cancelled');
            if (n.status === 'failed') expect(compiled.nodes[i]!.onError).toBe('continue');
          }
        // Nothing moves once the run is over, whatever arrives.
        const after = JSON.stringify(snapshot(state));
        sh.feed({ type: 'start' });
        sh.feed({ type: 'cancel' });
        sh.feed({ type: 'run.deadline' });
        for (const e of sh.ended.slice(-3))
          sh.feed({ type: 'attempt.succeeded', node: e.node, attempt: e.attempt, output: 1, durationMs: 1, taken: [] });
        for (let i = 0; i < compiled.nodes.length; i++) {
          sh.feed({ type: 'timer.fired', node: i, kind: 'retry' });
          sh.feed({ type: 'gate.decided', node: i, decision: { approved: true, by: 'late' } });
        }
        expect(JSON.stringify(snapshot(state))).toBe(after);
      }),
      { numRuns: 300 },
    );
  });

  it('runs every node of a graph whose edges are all taken and nothing fails', () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        const plain: Spec = { ...spec, maxCostUsd: undefined, edges: spec.edges.map((e) => ({ ...e, cond: false })) };
        const sh = simulate(plain, []);
        expect(sh.state.status).toBe('succeeded');
        for (const n of sh.state.nodes) expect(n.status).toBe('succeeded');
      }),
      { numRuns: 100 },
    );
  });
});
