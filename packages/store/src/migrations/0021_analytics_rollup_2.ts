import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * Run analytics from an hourly rollup (docs/observability.md § Run analytics), SQLite only.
 *
 * - `analytics_hourly_runs` (workflow, hour of creation, status, duration bin → runs, cost) holds
 *   the finished runs (succeeded, failed, cancelled) of each workflow per hour. Triggers keep it
 *   equal to the runs table: a run entering a final status adds itself (one insert-or-update, in
 *   the transaction of its final commit); a finished run whose status, cost or times change is
 *   subtracted and re-added; deleting one subtracts it. The analytics page reads a 30-day window
 *   from these rows instead of aggregating 100,000 runs. Duration bin = floor(ln(ms) · 20) (5 %
 *   wide, the bin the page's query uses), -1 for a run without both times. Filled from the
 *   existing runs here, once.
 * - `runs_failed`: the failed runs with their error code and error (partial index covering the
 *   failure groups query; written only when a run fails).
 * - `runs_analytics` (0015) is dropped: nothing reads it any more on SQLite, and it cost an index
 *   update on every status, cost and time change of every run.
 *
 * The unfinished runs of a window are counted live (index runs_status). PostgreSQL keeps
 * computing the page from `runs_analytics`: hot counter rows updated by concurrent workers'
 * commits would contend (and, in batches finishing several runs, deadlock), so there a rollup
 * needs another design. Nothing changes there.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against any database shape
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  // The first form of this migration (0021_analytics_rollup, briefly on main): its objects go.
  for (const t of ['runs_rollup_insert', 'runs_rollup_update', 'runs_rollup_delete'])
    await sql`drop trigger if exists ${sql.id(t)}`.execute(db);
  await sql`drop table if exists analytics_hourly_durations`.execute(db);
  await sql`drop table if exists analytics_hourly_runs`.execute(db);
  await sql`drop index if exists runs_active`.execute(db);
  await sql`drop index if exists runs_failed`.execute(db);
  await sql`create table analytics_hourly_runs (
    workflow_id text not null, hour text not null, status text not null, bin integer not null,
    runs integer not null, cost_usd real not null,
    primary key (workflow_id, hour, status, bin)) without rowid`.execute(db);

  const FINAL = sql.raw(`('succeeded', 'failed', 'cancelled')`);
  const bin = (r: 'new' | 'old' | 'runs') =>
    sql.raw(
      `case when ${r}.started_at is not null and ${r}.finished_at is not null then cast(floor(ln(max((julianday(${r}.finished_at) - julianday(${r}.started_at)) * 86400000.0, 1)) * 20) as integer) else -1 end`,
    );
  const add = sql`
    insert into analytics_hourly_runs (workflow_id, hour, status, bin, runs, cost_usd)
      select new.workflow_id, substr(new.created_at, 1, 13), new.status, ${bin('new')}, 1, coalesce(new.cost_usd, 0)
      where new.status in ${FINAL}
      on conflict (workflow_id, hour, status, bin) do update set runs = runs + 1, cost_usd = cost_usd + excluded.cost_usd;`;
  const subtract = sql`
    update analytics_hourly_runs set runs = runs - 1, cost_usd = cost_usd - coalesce(old.cost_usd, 0)
      where workflow_id = old.workflow_id and hour = substr(old.created_at, 1, 13) and status = old.status
        and bin = ${bin('old')};`;
  // A run finishing (the common case): one statement.
  await sql`create trigger runs_rollup_insert after insert on runs
    when new.status in ${FINAL}
    begin ${add} end`.execute(db);
  await sql`create trigger runs_rollup_finish after update of status on runs
    when new.status in ${FINAL} and old.status not in ${FINAL}
    begin ${add} end`.execute(db);
  // A finished run changed (resumed, re-costed, re-timed, moved): out with the old figures, in with the new.
  await sql`create trigger runs_rollup_change
    after update of workflow_id, status, cost_usd, created_at, started_at, finished_at on runs
    when old.status in ${FINAL}
      and (old.status is not new.status or old.cost_usd is not new.cost_usd or old.created_at is not new.created_at
        or old.started_at is not new.started_at or old.finished_at is not new.finished_at
        or old.workflow_id is not new.workflow_id)
    begin ${subtract} ${add} end`.execute(db);
  await sql`create trigger runs_rollup_delete after delete on runs
    when old.status in ${FINAL}
    begin ${subtract} end`.execute(db);

  await sql`insert into analytics_hourly_runs (workflow_id, hour, status, bin, runs, cost_usd)
    select workflow_id, substr(created_at, 1, 13), status, ${bin('runs')}, count(*), coalesce(sum(cost_usd), 0)
    from runs where status in ${FINAL} group by 1, 2, 3, 4`.execute(db);

  await sql`drop index if exists runs_analytics`.execute(db);
  await sql`create index runs_failed on runs (workflow_id, created_at, coalesce(json_extract(error, '$.code'), 'UNKNOWN'), error)
    where status = 'failed'`.execute(db);
}
