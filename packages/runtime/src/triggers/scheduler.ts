/**
 * The schedule loop: one loop for every schedule in the database, never one timer per trigger.
 *
 * Each pass reads the schedules whose next tick is due (one indexed query), starts each tick's run
 * with the idempotency key `schedule:<triggerId>:<tick>`, then records the batch's runs and moves
 * each schedule to its next tick with conditional updates, in one transaction. With several servers and workers on one PostgreSQL every
 * process runs this loop; the idempotency key makes the tick's run one run whoever starts it, and
 * the conditional update lets exactly one process move the schedule on. A process that dies
 * between the two steps leaves the tick due; the next pass (its own after a restart, or another
 * process's) gets the same run back from the key and finishes the step.
 *
 * Downtime: a schedule found due long after its tick starts one run for the tick it missed first
 * (its `tick` says which), and then moves on to the next tick after now: at most one catch-up run
 * per trigger, however long everything was down.
 */
import { nextFireTime, type ScheduleTrigger, TrellisError } from '@trellis/core';
import {
  type CompletedTick,
  type Database,
  type DueSchedule,
  pruneDeliveries,
  type ScheduleQueries,
  type ScheduleQuerySource,
  scheduleDb,
  scheduleQueries,
} from '@trellis/store';
import type { Kysely } from 'kysely';
import { type Clock, systemClock, type TimerHandle } from '../clock.ts';
import type { Engine } from '../engine.ts';
import type { EngineLogger } from '../runner/engine.ts';

/** What the loop needs of the engine: starting runs, and (optionally) compiling ahead of a tick. */
export type TriggerEngine = Pick<Engine, 'startRun'> & {
  /** Compiles a workflow version into the engine's cache (RunnerEngine.prepare). */
  prepare?(workflowId: string, version: number): Promise<void>;
};

export interface TriggerSchedulerOptions {
  /**
   * The database: a store handle (on SQLite its raw connection runs the loop's queries as
   * prepared statements) or the query builder.
   */
  db: ScheduleQuerySource;
  engine: TriggerEngine;
  clock?: Clock;
  logger?: EngineLogger;
  /**
   * Longest sleep between passes (default 1 s). Schedules saved by another process are seen within
   * this time; saves through this process call `wake()`.
   */
  pollMs?: number;
  /**
   * Schedules handled per query (default 10,000); a pass repeats until nothing is due. A batch's
   * runs are all created before the batch is recorded (its trigger runs, its schedules moved on),
   * so a tick of up to this many schedules has every run queued before that bookkeeping.
   */
  batchSize?: number;
  /** Ticks started at once (default 256; runs created in the same turn share one transaction). */
  concurrency?: number;
  /**
   * How long before a tick the workflows of the schedules due by then are compiled (default
   * 10 s), so the tick itself pays no compile — the first tick after a start included, when the
   * process started at least this long (plus the compile time) before it.
   */
  prepareAheadMs?: number;
}

export interface TriggerSchedulerStats {
  passes: number;
  started: number;
  /** Ticks whose run had been started already (by another process, or before a crash). */
  deduplicated: number;
  failed: number;
}

const quiet: EngineLogger = { info() {}, warn() {}, error() {} };

export class TriggerScheduler {
  private readonly db: Kysely<Database>;
  private readonly queries: ScheduleQueries;
  private readonly engine: TriggerEngine;
  private readonly clock: Clock;
  private readonly logger: EngineLogger;
  private readonly pollMs: number;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly prepareAheadMs: number;
  /** The tick whose schedules were last prepared (so the next passes before it skip the work). */
  private preparedFor: string | undefined;
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  /** Arming the next pass (with the preparation of the ticks due soon) after a pass. */
  private arming: Promise<void> | undefined;
  private again = false;
  /** The loop re-arms itself only between start() and stop(); pass() works either way. */
  private looping = false;
  private stopping = false;
  private lastPrune = 0;
  readonly stats: TriggerSchedulerStats = { passes: 0, started: 0, deduplicated: 0, failed: 0 };

  constructor(options: TriggerSchedulerOptions) {
    this.db = scheduleDb(options.db);
    this.queries = scheduleQueries(options.db);
    this.engine = options.engine;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? quiet;
    this.pollMs = options.pollMs ?? 1000;
    this.batchSize = options.batchSize ?? 10_000;
    this.concurrency = options.concurrency ?? 256;
    this.prepareAheadMs = options.prepareAheadMs ?? 10_000;
  }

  start(): void {
    if (this.looping) return;
    this.looping = true;
    this.stopping = false;
    this.wake();
  }

  /** Runs a pass now (after a save that added or changed a schedule). */
  wake(): void {
    if (!this.looping) return;
    this.timer?.cancel();
    this.timer = undefined;
    void this.pass();
  }

  /** Resolves once the pass in progress (with the preparation that follows it), if any, has finished. */
  async idle(): Promise<void> {
    for (let p = this.running ?? this.arming; p; p = this.running ?? this.arming) await p;
  }

  /** Stops the loop; resolves when the pass in progress (if any) has finished. */
  async stop(): Promise<void> {
    this.looping = false;
    this.stopping = true;
    this.timer?.cancel();
    this.timer = undefined;
    await this.idle();
  }

  /**
   * One pass: starts every due tick, then arms the next pass. Resolves when done (armed
   * included); concurrent calls share the pass in progress and schedule one more after it.
   */
  pass(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const done = (async () => {
      try {
        do {
          this.again = false;
          await this.runDue();
        } while (this.again && !this.stopping);
      } catch (err) {
        this.logger.error('schedule pass failed', { error: err instanceof Error ? err.message : String(err) });
      } finally {
        this.running = undefined;
      }
      // Arming (and preparing the ticks due soon) is not part of the pass: a wake meanwhile
      // starts a pass of its own.
      if (this.looping) {
        const arming = this.arm();
        this.arming = arming;
        await arming;
        if (this.arming === arming) this.arming = undefined;
      }
    })();
    this.running = done;
    return done;
  }

  private async runDue(): Promise<void> {
    this.stats.passes++;
    // Admission first: the pass's runs are created (queued, durable) as their ticks are handled,
    // and execute once the whole pass is recorded — so the last of thousands of ticks due at once
    // is not queued behind the execution of the first ones.
    let release: () => void = () => {};
    const hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      await this.admitDue(hold);
    } finally {
      release();
    }
    const now = this.clock.now();
    if (now - this.lastPrune > 3_600_000) {
      this.lastPrune = now;
      await pruneDeliveries(this.db, now);
    }
  }

  private async admitDue(hold: Promise<void>): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      const due = await this.queries.due(new Date(now).toISOString(), this.batchSize);
      if (due.length === 0) break;
      let next = 0;
      const done: CompletedTick[] = [];
      const worker = async () => {
        while (next < due.length && !this.stopping) {
          const handled = await this.fire(due[next++] as DueSchedule, now, hold);
          if (handled) done.push(handled);
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.concurrency, due.length) }, worker));
      // One transaction records the batch's runs and moves its schedules on.
      await this.queries.complete(done);
      if (due.length < this.batchSize || this.stopping) break;
    }
  }

  /** Starts one due tick's run; returns what to record (undefined: leave the tick due). */
  private async fire(t: DueSchedule, now: number, hold: Promise<void>): Promise<CompletedTick | undefined> {
    const tick = t.nextFireAt;
    if (t.definition.type !== 'schedule') return undefined;
    const def: ScheduleTrigger = t.definition;
    let runId: string | null = null;
    try {
      const r = await this.engine.startRun({
        workflowId: t.workflowId,
        version: t.version,
        input: def.input ?? {},
        createdBy: `trigger:${t.id}`,
        idempotencyKey: `schedule:${t.id}:${tick}`,
        holdUntil: hold,
      });
      runId = r.runId;
      if (r.created) this.stats.started++;
      else this.stats.deduplicated++;
    } catch (err) {
      if (err instanceof TrellisError && err.code === 'SHUTTING_DOWN') return undefined;
      this.stats.failed++;
      // The tick is consumed all the same: a tick that cannot start (input no longer valid, the
      // workflow gone) must not be retried on every pass.
      this.logger.warn('a scheduled tick could not start a run', {
        workflowId: t.workflowId,
        trigger: t.id,
        tick,
        error: err instanceof Error ? err.message : String(err),
      });
    }
    // Next tick after whichever is later: the tick itself or now (so downtime yields one catch-up run).
    const after = Math.max(Date.parse(tick), now);
    const next = nextFireTime(def.cron, def.timezone, after);
    return { workflowId: t.workflowId, id: t.id, tick, next: next === undefined ? null : new Date(next).toISOString(), runId };
  }

  private async arm(): Promise<void> {
    let delay = this.pollMs;
    try {
      const next = await this.queries.earliest();
      if (next !== undefined) {
        const until = Date.parse(next) - this.clock.now();
        if (until > this.prepareAheadMs) delay = Math.min(delay, until - this.prepareAheadMs);
        else {
          if (next !== this.preparedFor) await this.prepareSoon(next);
          delay = Math.max(0, Math.min(delay, Date.parse(next) - this.clock.now()));
        }
      }
    } catch {
      // The database is busy or closing: poll again at the usual pace.
    }
    if (!this.looping) return;
    this.timer?.cancel();
    this.timer = this.clock.setTimeout(() => void this.pass(), delay, { background: true });
  }

  /**
   * Compiles the workflows of the schedules due within `prepareAheadMs` into the engine's cache
   * (a version already there costs a lookup), yielding to the event loop as it goes so requests
   * are not held up. A version that cannot be prepared is left for its tick to report.
   */
  private async prepareSoon(tick: string): Promise<void> {
    const prepare = this.engine.prepare?.bind(this.engine);
    if (!prepare) return;
    this.preparedFor = tick;
    const by = new Date(this.clock.now() + this.prepareAheadMs).toISOString();
    const versions = await this.queries.dueVersions(by, 100_000);
    let slice = performance.now();
    for (const v of versions) {
      if (this.stopping) return;
      try {
        await prepare(v.workflowId, v.version);
      } catch {
        // Reported when the tick tries to start its run.
      }
      if (performance.now() - slice > 10) {
        await new Promise((resolve) => setImmediate(resolve));
        slice = performance.now();
      }
    }
  }
}
