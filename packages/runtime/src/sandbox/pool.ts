/**
 * The expression sandbox: a small pool of worker threads that evaluate a definition's JSONata
 * expressions off the main thread, so no expression can stall the event loop (the HTTP server,
 * streams, other runs) or crash the process.
 *
 * - Each worker runs under V8 `resourceLimits` (heap cap) and handles one job at a time.
 * - A job has a hard wall-clock deadline (`timeoutMs + graceMs`); past it the worker is
 *   terminated — the only way to stop an uninterruptible built-in call or a regular expression
 *   backtracking — and replaced. A worker that dies (out of memory, fatal error) is replaced
 *   too. Only the job it was running fails, with EXPRESSION_ERROR naming the limit it hit.
 * - One job per node: every expression a node needs (its bindings, its edge conditions) goes in
 *   one message; the worker caches compiled expressions by source text.
 * - A plain `$node.path` reference through objects needs no JSONata: it is read here.
 * - Workers start lazily and only as needed: the first with the first job, another only when a
 *   job has to wait because every worker is busy (up to `workers`). A worker beyond the first
 *   that has been idle for `IDLE_RETIRE_MS` is stopped (each holds an isolate of its own, 10–40
 *   MB), and the last one too once the pool has had no work for `LAST_WORKER_RETIRE_MS`: an
 *   idle server holds no sandbox isolate; the next expression starts a worker again (tens of
 *   milliseconds). Workers hold the process open only while they have work, and run with an
 *   empty environment (no secrets from `process.env`).
 */
import { Worker } from 'node:worker_threads';
import {
  type EvaluationOptions,
  type EvaluationRequest,
  type ExpressionEvaluator,
  type PathReference,
  parsePathReference,
  TrellisError,
} from '@trellis/core';
import { SANDBOX_ENV, type SandboxLimits, sandboxLimits } from './limits.ts';

const WORKER_URL = new URL('./expression-worker.mjs', import.meta.url);
/** Workers of every pool in this process that are starting (their isolate is being set up). */
const startingSlots = new Set<object>();

/** How many sandbox workers are starting right now, across every pool (see memory/idle-trim.ts). */
export function sandboxWorkersStarting(): number {
  return startingSlots.size;
}
/** Workers that die before they are ready this many times in a row mean the sandbox cannot start. */
const MAX_START_FAILURES = 3;
/** A worker beyond the first, idle this long, is stopped (the pool shrinks back after a burst). */
export const IDLE_RETIRE_MS = 5000;
/** The last worker is stopped once the pool has had no work this long (an idle server holds none). */
export const LAST_WORKER_RETIRE_MS = 30_000;

interface Job {
  readonly id: number;
  readonly requests: readonly EvaluationRequest[];
  resolve(values: unknown[]): void;
  reject(err: unknown): void;
}

interface Slot {
  readonly worker: Worker;
  ready: boolean;
  dead: boolean;
  job: Job | undefined;
  timer: NodeJS.Timeout | undefined;
}

type Answer =
  | { ready: true }
  | { id: number; ok: true; values: unknown[] }
  | {
      id: number;
      ok: false;
      index: number;
      error: { code: string; message: string; jsonataCode?: string; position?: number };
    };

/** What the pool has done since it started (for metrics, tests and the benchmark). */
export interface SandboxStats {
  workers: number;
  queued: number;
  busy: number;
  jobs: number;
  /** Expressions answered on the main thread (plain references). */
  direct: number;
  /** Workers terminated at their deadline. */
  timeouts: number;
  /** Workers that ran out of heap. */
  outOfMemory: number;
  /** Workers that died otherwise. */
  crashes: number;
  spawned: number;
  /** Workers stopped after the pool sat idle (`retireIdleMs`; the last one `lastWorkerIdleMs`). */
  retired: number;
}

export class ExpressionPool implements ExpressionEvaluator {
  readonly limits: SandboxLimits;
  private readonly slots: Slot[] = [];
  /**
   * Waiting jobs by key (the engine uses the run id), served round-robin: one run's runaway
   * expressions cannot make every other run wait behind all of them.
   */
  private readonly queue = new FairQueue<Job>();
  private nextId = 1;
  private startFailures = 0;
  private lastStartError = '';
  private closed = false;
  private readonly counters = { jobs: 0, direct: 0, timeouts: 0, outOfMemory: 0, crashes: 0, spawned: 0, retired: 0 };
  /** When the pool last had work (queued or running), for retiring surplus idle workers. */
  private lastBusy = 0;
  private retireTimer: NodeJS.Timeout | undefined;

  private readonly retireIdleMs: number;
  private readonly lastWorkerIdleMs: number;

  /**
   * `retireIdleMs`: how long a worker beyond the first may sit idle (default `IDLE_RETIRE_MS`);
   * `lastWorkerIdleMs`: how long the pool may sit idle before its last worker stops too
   * (default `LAST_WORKER_RETIRE_MS`; `Infinity` keeps one worker for good).
   */
  constructor(limits: Partial<SandboxLimits> = {}, options: { retireIdleMs?: number; lastWorkerIdleMs?: number } = {}) {
    this.limits = sandboxLimits(limits);
    this.retireIdleMs = options.retireIdleMs ?? IDLE_RETIRE_MS;
    this.lastWorkerIdleMs = Math.max(this.retireIdleMs, options.lastWorkerIdleMs ?? LAST_WORKER_RETIRE_MS);
  }

  evaluate(requests: readonly EvaluationRequest[], options?: EvaluationOptions): Promise<unknown[]> {
    if (requests.length === 0) return Promise.resolve([]);
    if (requests.length === 1) {
      const r = requests[0]!;
      const direct = readDirect(r.source, r.scope);
      if (direct.ok) {
        this.counters.direct++;
        return Promise.resolve([direct.value]);
      }
    }
    if (this.closed) return Promise.reject(new TrellisError('SHUTTING_DOWN', 'the expression sandbox is closed'));
    return new Promise<unknown[]>((resolve, reject) => {
      this.queue.push(options?.key ?? '', { id: this.nextId++, requests, resolve, reject });
      this.counters.jobs++;
      this.fill();
      this.dispatch();
    });
  }

  stats(): SandboxStats {
    return {
      workers: this.slots.length,
      queued: this.queue.length,
      busy: this.slots.filter((s) => s.job).length,
      ...this.counters,
    };
  }

  /** Terminates every worker; queued and running jobs fail. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retireTimer) clearTimeout(this.retireTimer);
    this.retireTimer = undefined;
    const err = new TrellisError('SHUTTING_DOWN', 'the expression sandbox was closed');
    for (const job of this.queue.drain()) job.reject(err);
    const slots = this.slots.splice(0);
    await Promise.all(
      slots.map((s) => {
        s.dead = true;
        startingSlots.delete(s);
        if (s.timer) clearTimeout(s.timer);
        s.job?.reject(err);
        return s.worker.terminate();
      }),
    );
  }

  // ── workers ───────────────────────────────────────────────────────────────

  /**
   * Starts a worker for every queued job no idle or starting worker will take, up to the
   * pool's size: none before there is work, one for a steady trickle, more only under a burst.
   */
  private fill(): void {
    while (
      !this.closed &&
      this.queue.length > this.slots.filter((s) => !s.job && !s.dead).length &&
      this.slots.length < this.limits.workers &&
      this.startFailures < MAX_START_FAILURES
    )
      this.spawn();
    if (this.startFailures >= MAX_START_FAILURES && this.slots.length === 0) {
      const err = new TrellisError(
        'EXPRESSION_ERROR',
        `the expression sandbox could not start a worker: ${this.lastStartError}`,
        { category: 'system' },
      );
      for (const job of this.queue.drain()) job.reject(err);
      this.startFailures = 0; // the next evaluation tries again
    }
  }

  private spawn(): void {
    const l = this.limits;
    const worker = new Worker(WORKER_URL, {
      workerData: {
        limits: {
          timeoutMs: l.timeoutMs,
          maxDepth: l.maxDepth,
          maxSequence: l.maxSequence,
          maxStringLength: l.maxStringLength,
          maxArrayLength: l.maxArrayLength,
          maxResultBytes: l.maxResultBytes,
          heapMb: l.heapMb,
        },
      },
      resourceLimits: { maxOldGenerationSizeMb: l.heapMb, maxYoungGenerationSizeMb: Math.min(32, Math.max(4, l.heapMb >> 3)) },
      // Not the parent's flags (a TypeScript loader would triple the start time) nor its environment.
      execArgv: [],
      env: {},
      stdin: false,
    });
    this.counters.spawned++;
    const slot: Slot = { worker, ready: false, dead: false, job: undefined, timer: undefined };
    this.slots.push(slot);
    startingSlots.add(slot);
    worker.unref();
    worker.on('message', (m: Answer) => this.onMessage(slot, m));
    worker.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        this.counters.outOfMemory++;
        this.lose(
          slot,
          `expression used more memory than the sandbox's heap limit of ${l.heapMb} MB and was stopped (${SANDBOX_ENV.heapMb})`,
        );
      } else {
        this.counters.crashes++;
        this.lose(slot, `the expression sandbox's worker failed while evaluating it: ${err.message}`, err.message);
      }
    });
    worker.on('exit', (code) => {
      if (!slot.dead) {
        this.counters.crashes++;
        this.lose(slot, `the expression sandbox's worker stopped (exit code ${code}) while evaluating it`, `exit code ${code}`);
      }
    });
  }

  private onMessage(slot: Slot, m: Answer): void {
    if (slot.dead) return;
    if ('ready' in m) {
      slot.ready = true;
      startingSlots.delete(slot);
      this.startFailures = 0;
      this.dispatch();
      return;
    }
    const job = slot.job;
    if (!job || job.id !== m.id) return;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.job = undefined;
    if (m.ok) job.resolve(m.values);
    else {
      const source = job.requests[m.index]?.source ?? '';
      job.reject(
        new TrellisError(
          m.error.code === 'EXPRESSION_SYNTAX' ? 'EXPRESSION_SYNTAX' : 'EXPRESSION_ERROR',
          withSource(m.error.message, source),
          {
            category: 'user',
            details: { jsonataCode: m.error.jsonataCode, position: m.error.position },
          },
        ),
      );
    }
    this.dispatch();
  }

  /** Hands queued jobs to ready, idle workers and arms each one's hard deadline. */
  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) break;
      if (!slot.ready || slot.dead || slot.job) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      try {
        slot.worker.postMessage({ id: job.id, items: job.requests });
      } catch (err) {
        // The scope holds something that cannot be cloned (it is not plain data).
        slot.job = undefined;
        job.reject(
          new TrellisError('EXPRESSION_ERROR', `the expression's variables are not plain data: ${(err as Error).message}`, {
            category: 'user',
          }),
        );
        continue;
      }
      const deadline = this.limits.timeoutMs + this.limits.graceMs;
      slot.timer = setTimeout(() => {
        this.counters.timeouts++;
        this.lose(
          slot,
          `expression ran longer than the sandbox's limit of ${this.limits.timeoutMs} ms and was stopped (${SANDBOX_ENV.timeoutMs})`,
        );
      }, deadline);
    }
    this.refresh();
  }

  /**
   * A worker is gone (deadline, out of memory, crash): fail its job only, terminate it if it
   * still runs, and start a replacement.
   */
  private lose(slot: Slot, message: string, startError?: string): void {
    if (slot.dead) return;
    slot.dead = true;
    startingSlots.delete(slot);
    if (slot.timer) clearTimeout(slot.timer);
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    void slot.worker.terminate().catch(() => {});
    const job = slot.job;
    slot.job = undefined;
    if (job) {
      const only = job.requests.length === 1 ? job.requests[0]!.source : undefined;
      job.reject(
        new TrellisError('EXPRESSION_ERROR', only === undefined ? message : withSource(message, only), {
          category: 'user',
          details: { sandbox: true },
        }),
      );
    }
    if (!slot.ready) {
      this.startFailures++;
      this.lastStartError = startError ?? message;
    }
    if (this.closed) return;
    if (this.queue.length > 0) this.fill();
    this.dispatch();
  }

  /** Workers keep the process alive only while there is work for them. */
  private refresh(): void {
    const busy = this.queue.length > 0 || this.slots.some((s) => s.job);
    for (const s of this.slots) {
      if (busy) s.worker.ref();
      else s.worker.unref();
    }
    if (busy) this.lastBusy = Date.now();
    else if (this.slots.length > 0) this.scheduleRetire(this.retireIdleMs);
  }

  /**
   * Once the pool has had no work for `retireIdleMs`, stops the workers beyond the first; once
   * for `lastWorkerIdleMs`, the last one too.
   */
  private scheduleRetire(delayMs: number): void {
    if (this.retireTimer || this.closed || !Number.isFinite(delayMs)) return;
    this.retireTimer = setTimeout(() => {
      this.retireTimer = undefined;
      if (this.closed || this.queue.length > 0 || this.slots.some((s) => s.job)) return;
      const idleFor = Date.now() - this.lastBusy;
      if (idleFor < this.retireIdleMs) return this.scheduleRetire(this.retireIdleMs - idleFor);
      this.retire(this.slots.splice(1));
      if (this.slots.length === 0) return;
      if (idleFor < this.lastWorkerIdleMs) return this.scheduleRetire(this.lastWorkerIdleMs - idleFor);
      this.retire(this.slots.splice(0));
    }, delayMs);
    this.retireTimer.unref();
  }

  private retire(slots: Slot[]): void {
    for (const slot of slots) {
      slot.dead = true;
      startingSlots.delete(slot);
      this.counters.retired++;
      void slot.worker.terminate().catch(() => {});
    }
  }
}

/** FIFO per key; keys take turns. */
class FairQueue<T> {
  private readonly byKey = new Map<string, T[]>();
  length = 0;

  push(key: string, item: T): void {
    const q = this.byKey.get(key);
    if (q) q.push(item);
    else this.byKey.set(key, [item]);
    this.length++;
  }

  shift(): T | undefined {
    const first = this.byKey.entries().next();
    if (first.done) return undefined;
    const [key, q] = first.value;
    const item = q.shift();
    // This key goes to the back of the line (or leaves it when it has nothing left).
    this.byKey.delete(key);
    if (q.length > 0) this.byKey.set(key, q);
    this.length--;
    return item;
  }

  drain(): T[] {
    const all = [...this.byKey.values()].flat();
    this.byKey.clear();
    this.length = 0;
    return all;
  }
}

function withSource(message: string, source: string): string {
  const shown = source.length > 200 ? `${source.slice(0, 200)}…` : source;
  return `${message} — in ${JSON.stringify(shown)}`;
}

/**
 * `$node.a.b` through plain objects (and the variable alone) reads the same in JSONata and by
 * walking, so it is answered here. Anything else (array steps, which JSONata maps over or
 * flattens; array values; a missing variable) goes to a worker.
 */
const directCache = new Map<string, PathReference | null>();

function readDirect(source: string, scope: Record<string, unknown>): { ok: true; value: unknown } | { ok: false } {
  let ref = directCache.get(source);
  if (ref === undefined) {
    const parsed = parsePathReference(source);
    ref = parsed?.steps.every((s) => typeof s === 'string') ? parsed : null;
    if (directCache.size > 10_000) directCache.clear();
    directCache.set(source, ref);
  }
  if (ref === null || !Object.hasOwn(scope, ref.variable)) return { ok: false };
  let cur = scope[ref.variable];
  for (const step of ref.steps) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return { ok: false };
    if (!Object.hasOwn(cur, step)) return { ok: true, value: undefined };
    cur = (cur as Record<string, unknown>)[step as string];
  }
  if (Array.isArray(cur) || typeof cur === 'function') return { ok: false };
  return { ok: true, value: cur };
}

let shared: ExpressionPool | undefined;

/** The process-wide pool, with limits from the environment (workers start on first use). */
export function sharedExpressionPool(): ExpressionPool {
  shared ??= new ExpressionPool();
  return shared;
}
