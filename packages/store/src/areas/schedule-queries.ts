/**
 * The schedule loop's queries, one implementation per dialect. Every minute a busy instance reads
 * thousands of due schedules and moves each on; on SQLite these run as prepared statements on
 * the raw connection (no query building, no per-call parse, the whole batch in one synchronous
 * transaction), on PostgreSQL through the query builder (triggers.ts), a batch per statement.
 * Same semantics either way: a schedule moves past a tick only if its next tick is still that
 * tick, so of several processes exactly one advances it.
 */
import type { TriggerDefinition } from '@trellis/core';
import type BetterSqlite3 from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { Database } from '../tables.ts';
import { type CompletedTick, completeTicks, dueSchedules, earliestTick } from './triggers.ts';
import { nowIso } from './workflows.ts';

/** A schedule whose next tick is due. */
export interface DueSchedule {
  workflowId: string;
  /** The trigger's id within the workflow. */
  id: string;
  /** The workflow version that declared it (the version its runs run). */
  version: number;
  definition: TriggerDefinition;
  /** The due tick (ISO). */
  nextFireAt: string;
}

export interface ScheduleQueries {
  /** Schedules due at `now` (ISO) or earlier, earliest tick first. */
  due(now: string, limit: number): Promise<DueSchedule[]>;
  /** Records a batch of handled ticks (their runs, each schedule moved on); returns how many it advanced. */
  complete(ticks: readonly CompletedTick[]): Promise<number>;
  /** The earliest next tick of any enabled schedule (ISO), or undefined. */
  earliest(): Promise<string | undefined>;
  /** The workflow versions of the schedules due by `by` (ISO), to prepare them before their tick. */
  dueVersions(by: string, limit: number): Promise<{ workflowId: string; version: number }[]>;
}

/** What the queries run on: a store handle (SQLite's carries its raw connection) or a query builder. */
export type ScheduleQuerySource = Kysely<Database> | { db: Kysely<Database>; raw?: BetterSqlite3.Database };

/** The query builder of a source (for the other trigger functions). */
export function scheduleDb(source: ScheduleQuerySource): Kysely<Database> {
  return 'selectFrom' in source ? source : source.db;
}

export function scheduleQueries(source: ScheduleQuerySource): ScheduleQueries {
  if (!('selectFrom' in source) && source.raw) return new SqliteScheduleQueries(source.raw);
  const db = scheduleDb(source);
  return {
    due: (now, limit) => dueSchedules(db, now, limit) as Promise<DueSchedule[]>,
    complete: (ticks) => completeTicks(db, ticks),
    earliest: () => earliestTick(db),
    async dueVersions(by, limit) {
      const rows = await db
        .selectFrom('triggers')
        .select(['workflow_id', 'version'])
        .distinct()
        .where('next_fire_at', 'is not', null)
        .where('next_fire_at', '<=', by)
        .where('enabled', '=', 1)
        .limit(limit)
        .execute();
      return rows.map((r) => ({ workflowId: r.workflow_id, version: r.version }));
    },
  };
}

class SqliteScheduleQueries implements ScheduleQueries {
  private readonly dueStmt: BetterSqlite3.Statement;
  private readonly earliestStmt: BetterSqlite3.Statement;
  private readonly versionsStmt: BetterSqlite3.Statement;
  private readonly insertRun: BetterSqlite3.Statement;
  private readonly advance: BetterSqlite3.Statement;
  private readonly completeAll: (ticks: readonly CompletedTick[], at: string) => number;

  constructor(raw: BetterSqlite3.Database) {
    // Same filter and order as the query builder's (the `triggers_due` index on next_fire_at).
    this.dueStmt = raw
      .prepare(
        `select workflow_id, trigger_id, version, spec, next_fire_at from triggers
         where next_fire_at is not null and next_fire_at <= ? and enabled = 1
         order by next_fire_at limit ?`,
      )
      .raw();
    this.earliestStmt = raw
      .prepare('select min(next_fire_at) from triggers where next_fire_at is not null and enabled = 1')
      .pluck();
    this.versionsStmt = raw
      .prepare(
        `select distinct workflow_id, version from triggers
         where next_fire_at is not null and next_fire_at <= ? and enabled = 1 limit ?`,
      )
      .raw();
    this.insertRun = raw.prepare(
      `insert into trigger_runs (run_id, workflow_id, trigger_id, type, tick, delivery_id, created_at)
       values (?, ?, ?, 'schedule', ?, null, ?) on conflict (run_id) do nothing`,
    );
    this.advance = raw.prepare(
      `update triggers set next_fire_at = ?, last_fired_at = ?, last_run_id = coalesce(?, last_run_id)
       where workflow_id = ? and trigger_id = ? and next_fire_at = ?`,
    );
    const complete = raw.transaction((ticks: readonly CompletedTick[], at: string): number => {
      let advanced = 0;
      for (const t of ticks) {
        if (t.runId !== null) this.insertRun.run(t.runId, t.workflowId, t.id, t.tick, at);
        advanced += this.advance.run(t.next, t.tick, t.runId, t.workflowId, t.id, t.tick).changes;
      }
      return advanced;
    });
    this.completeAll = (ticks, at) => complete.immediate(ticks, at);
  }

  async due(now: string, limit: number): Promise<DueSchedule[]> {
    const rows = this.dueStmt.all(now, limit) as [string, string, number, string, string][];
    const out: DueSchedule[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as [string, string, number, string, string];
      out[i] = { workflowId: r[0], id: r[1], version: r[2], definition: JSON.parse(r[3]) as TriggerDefinition, nextFireAt: r[4] };
    }
    return out;
  }

  async complete(ticks: readonly CompletedTick[]): Promise<number> {
    return ticks.length === 0 ? 0 : this.completeAll(ticks, nowIso());
  }

  async earliest(): Promise<string | undefined> {
    return (this.earliestStmt.get() as string | null) ?? undefined;
  }

  async dueVersions(by: string, limit: number): Promise<{ workflowId: string; version: number }[]> {
    return (this.versionsStmt.all(by, limit) as [string, number][]).map((r) => ({ workflowId: r[0], version: r[1] }));
  }
}
