import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * Run analytics from an hourly rollup (docs/observability.md § Run analytics), SQLite only.
 *
 * - `analytics_hourly_runs` (workflow, hour of creation, status → runs, cost) and
 *   `analytics_hourly_durations` (workflow, hour of creation, duration bin → runs) hold the
 *   finished runs (succeeded, failed, cancelled) of each workflow per hour. Triggers keep them
 *   equal to the runs table: a run entering a final status adds itself (in the transaction of its
 *   final commit), leaving one or changing its cost or times subtracts the old figures and adds
 *   the new, deleting it subtracts. The analytics page reads a 30-day window from ~720 rows per
 *   status instead of aggregating 100,000 runs. Duration bin = floor(ln(ms) · 20), the same bin
 *   the query uses (5 % wide). Filled from the existing runs here, once.
 * - `runs_active`: the workflow's queued, running and waiting runs by creation time (partial
 *   index: a run enters it when created and leaves it when it finishes) — they are counted live.
 * - `runs_failed`: the failed runs with their error code and error (partial index, covering the
 *   failure groups query; written only when a run fails).
 * - `runs_analytics` (0015) is dropped: nothing reads it any more on SQLite, and it cost an index
 *   update on every status, cost and time change of every run.
 *
 * PostgreSQL keeps computing the page from `runs_analytics`: hot counter rows updated by
 * concurrent workers' commits would contend (and, in batches finishing several runs, deadlock),
 * so there the rollup would need another design. Nothing changes there.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against any database shape
export async function up(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) return;
  await sql`create table analytics_hourly_runs (
    workflow_id text not null, hour text not null, status text not null,
    runs integer not null, cost_usd real not null,
    primary key (workflow_id, hour, status)) without rowid`.execute(db);
  await sql`create table analytics_hourly_durations (
    workflow_id text not null, hour text not null, bin integer not null,
    runs integer not null,
    primary key (workflow_id, hour, bin)) without rowid`.execute(db);

  const FINAL = sql.raw(`('succeeded', 'failed', 'cancelled')`);
  const bin = (r: 'new' | 'old' | 'runs') =>
    sql.raw(`cast(floor(ln(max((julianday(${r}.finished_at) - julianday(${r}.started_at)) * 86400000.0, 1)) * 20) as integer)`);
  const timed = (r: 'new' | 'old') => sql.raw(`${r}.started_at is not null and ${r}.finished_at is not null`);
  const add = sql`
    insert into analytics_hourly_runs (workflow_id, hour, status, runs, cost_usd)
      select new.workflow_id, substr(new.created_at, 1, 13), new.status, 1, coalesce(new.cost_usd, 0)
      where new.status in ${FINAL}
      on conflict (workflow_id, hour, status) do update set runs = runs + 1, cost_usd = cost_usd + excluded.cost_usd;
    insert into analytics_hourly_durations (workflow_id, hour, bin, runs)
      select new.workflow_id, substr(new.created_at, 1, 13), ${bin('new')}, 1
      where new.status in ${FINAL} and ${timed('new')}
      on conflict (workflow_id, hour, bin) do update set runs = runs + 1;`;
  const subtract = sql`
    update analytics_hourly_runs set runs = runs - 1, cost_usd = cost_usd - coalesce(old.cost_usd, 0)
      where old.status in ${FINAL}
        and workflow_id = old.workflow_id and hour = substr(old.created_at, 1, 13) and status = old.status;
    update analytics_hourly_durations set runs = runs - 1
      where old.status in ${FINAL} and ${timed('old')}
        and workflow_id = old.workflow_id and hour = substr(old.created_at, 1, 13) and bin = ${bin('old')};`;
  await sql`create trigger runs_rollup_insert after insert on runs
    when new.status in ${FINAL}
    begin ${add} end`.execute(db);
  await sql`create trigger runs_rollup_update
    after update of workflow_id, status, cost_usd, created_at, started_at, finished_at on runs
    when (old.status in ${FINAL} or new.status in ${FINAL})
      and (old.status is not new.status or old.cost_usd is not new.cost_usd or old.created_at is not new.created_at
        or old.started_at is not new.started_at or old.finished_at is not new.finished_at
        or old.workflow_id is not new.workflow_id)
    begin ${subtract} ${add} end`.execute(db);
  await sql`create trigger runs_rollup_delete after delete on runs
    when old.status in ${FINAL}
    begin ${subtract} end`.execute(db);

  await sql`insert into analytics_hourly_runs (workflow_id, hour, status, runs, cost_usd)
    select workflow_id, substr(created_at, 1, 13), status, count(*), coalesce(sum(cost_usd), 0)
    from runs where status in ${FINAL} group by 1, 2, 3`.execute(db);
  await sql`insert into analytics_hourly_durations (workflow_id, hour, bin, runs)
    select workflow_id, substr(created_at, 1, 13), ${bin('runs')}, count(*)
    from runs where status in ${FINAL} and started_at is not null and finished_at is not null group by 1, 2, 3`.execute(db);

  await sql`drop index if exists runs_analytics`.execute(db);
  await sql`create index runs_active on runs (workflow_id, created_at)
    where status in ('queued', 'running', 'waiting')`.execute(db);
  await sql`create index runs_failed on runs (workflow_id, created_at, coalesce(json_extract(error, '$.code'), 'UNKNOWN'), error)
    where status = 'failed'`.execute(db);
}
