import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * PostgreSQL only (a no-op on SQLite): a cheaper commit per step.
 *
 * A tool step in a chain commits once: three events, one attempt inserted and one finished, two
 * node rows updated (the finished node and the next one started), the fence, one notification.
 * This migration makes those writes cheaper for the database:
 *
 * - **HOT updates of node rows.** `node_runs_waiting` was a partial index `where status =
 *   'waiting'`: an index whose predicate names `status` makes every status change a non-HOT
 *   update (a new entry in every index of the table, the primary key included). It becomes
 *   `where wait_until is not null`: the same rows in practice (a node has a `wait_until` only
 *   while it waits with a timeout; every way out of waiting clears it), and the query that uses
 *   it (`status = 'waiting' and wait_until <= $1`) still does. `node_runs` is created full by
 *   a run's first commit (one row per node), so its pages also get room for new row versions
 *   (fillfactor 50): an update then stays on its page (HOT) instead of moving the row.
 * - **`trellis_commit` without sub-queries.** A patch used to be applied with
 *   `set (cols…) = (select … from jsonb_populate_record(t, patch))`: per updated row, a
 *   sub-plan, a copy of the whole row and a record built from it. Now each column is
 *   `case when patch ? 'col' then (patch->>'col')::type else col end` — the same result (a
 *   column the patch names takes its value, JSON null included; the others keep theirs), as
 *   plain expressions. Sections a batch does not have are skipped before their query starts.
 *
 * The columns written are those of 0004 (same signature, same document); a column added to
 * these tables later must be added here by a new migration, as 0004 explains.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against any database shape
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`drop index if exists node_runs_waiting`.execute(db);
  await sql`create index node_runs_waiting on node_runs (wait_until) where wait_until is not null`.execute(db);
  await sql`alter table node_runs set (fillfactor = 50)`.execute(db);

  const patch = (cols: readonly (readonly [string, string])[]) =>
    cols
      .map(
        ([c, type]) => `${c} = case when u.s ? '${c}' then (u.s->>'${c}')${type === 'text' ? '' : `::${type}`} else t.${c} end`,
      )
      .join(',\n            ');
  const attempts = patch([
    ['status', 'text'],
    ['started_at', 'text'],
    ['finished_at', 'text'],
    ['error', 'text'],
    ['cost_usd', 'double precision'],
    ['usage', 'text'],
    ['worker_id', 'text'],
    ['lease_expires_at', 'text'],
    ['reused_from', 'text'],
  ]);
  const nodes = patch([
    ['status', 'text'],
    ['attempt', 'integer'],
    ['input', 'text'],
    ['output', 'text'],
    ['error', 'text'],
    ['cost_usd', 'double precision'],
    ['started_at', 'text'],
    ['finished_at', 'text'],
    ['next_attempt_at', 'text'],
    ['prompt', 'text'],
    ['wait_until', 'text'],
    ['remote_ref', 'text'],
    ['decision', 'text'],
    ['taken', 'text'],
    ['recoveries', 'integer'],
    ['interrupted', 'integer'],
    ['reused_from', 'text'],
    ['retry_info', 'text'],
    ['item_count', 'integer'],
  ]);
  const runs = patch([
    ['status', 'text'],
    ['output', 'text'],
    ['error', 'text'],
    ['cost_usd', 'double precision'],
    ['started_at', 'text'],
    ['finished_at', 'text'],
    ['deadline_at', 'text'],
    ['last_seq', 'integer'],
    ['worker_id', 'text'],
    ['lease_expires_at', 'text'],
    ['cancel_requested', 'integer'],
    ['retry_of', 'text'],
    ['retry_info', 'text'],
    ['parent_run_id', 'text'],
    ['parent_node_id', 'text'],
    ['depth', 'integer'],
  ]);
  await sql
    .raw(`
    create or replace function trellis_commit(p_worker text, p_runs text[], p_batch jsonb) returns void
    language plpgsql
    as $$
    declare
      u record;
    begin
      if p_worker is not null and cardinality(p_runs) > 0 then
        perform trellis_fence(p_worker, p_runs);
      end if;
      if p_batch ? 'e' then
        insert into events (run_id, seq, type, node_id, at, data)
        select x.run_id, x.seq, x.type, x.node_id, x.at, x.data
        from jsonb_populate_recordset(null::events, p_batch->'e') x;
      end if;
      if p_batch ? 'a' then
        insert into attempts (run_id, node_id, attempt, status, started_at, finished_at, error, cost_usd, usage,
                              worker_id, lease_expires_at, reused_from)
        select x.run_id, x.node_id, x.attempt, x.status, x.started_at, x.finished_at, x.error, x.cost_usd, x.usage,
               x.worker_id, x.lease_expires_at, x.reused_from
        from jsonb_populate_recordset(null::attempts, p_batch->'a') x;
      end if;
      -- Row by row: each UPDATE is one primary-key lookup with a cached plan.
      if p_batch ? 'au' then
        for u in select * from jsonb_to_recordset(p_batch->'au') as j(k jsonb, s jsonb) loop
          update attempts t set
            ${attempts}
          where t.run_id = u.k->>0 and t.node_id = u.k->>1 and t.attempt = (u.k->>2)::integer;
        end loop;
      end if;
      if p_batch ? 'n' then
        for u in select * from jsonb_to_recordset(p_batch->'n') as j(k jsonb, s jsonb) loop
          update node_runs t set
            ${nodes}
          where t.run_id = u.k->>0 and t.node_id = u.k->>1;
        end loop;
      end if;
      if p_batch ? 'r' then
        for u in select * from jsonb_to_recordset(p_batch->'r') as j(k jsonb, s jsonb) loop
          update runs t set
            ${runs}
          where t.id = u.k->>0;
        end loop;
      end if;
      if p_batch ? 'notify' then
        perform pg_notify(m->>0, m->>1) from jsonb_array_elements(p_batch->'notify') m;
      end if;
    end $$`)
    .execute(db);
}
