import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * PostgreSQL only (a no-op on SQLite): `trellis_commit(worker, runs, batch)`, a whole batch of
 * the runner's writes in one call.
 *
 * The batch is one JSON document: `e` event rows and `a` attempt rows to insert; `au`, `n`
 * and `r` patches of attempts, node runs and runs (`{ k: key columns, s: { column: value } }`,
 * only the named columns change); `notify` pairs `[channel, payload]` sent on commit. With a
 * worker, the batch is fenced first (`trellis_fence`: it locks the runs and raises TR001 unless
 * the worker holds their leases), so a stale worker writes nothing.
 *
 * Why a function: the runner commits once per step, and a step's batch used to be six to
 * eight SQL statements, each parsed and planned on every commit. Called as a prepared
 * statement, the function costs one parse per connection, and its statements' plans are cached
 * by PL/pgSQL: one round trip, a fraction of the database CPU.
 *
 * The columns written are listed below, including those migrations 0005 (quarantine), 0008 (map and
 * workflow nodes) and 0009 (retry) add: PL/pgSQL resolves names when a statement first runs, not when the function is
 * created, and every migration has run before the first commit. A column added to these tables
 * later must be added to the function (a new migration re-creating it) and to the column sets
 * in pg-run-store.ts; until then, a batch writing it takes the statement-by-statement path.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against any database shape
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`
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
      -- Row by row: each UPDATE is one primary-key lookup with a cached plan (a join against
      -- the whole document could be planned as a scan of the table).
      for u in select * from jsonb_to_recordset(p_batch->'au') as j(k jsonb, s jsonb) loop
        update attempts t
        set (status, started_at, finished_at, error, cost_usd, usage, worker_id, lease_expires_at, reused_from) =
          (select r.status, r.started_at, r.finished_at, r.error, r.cost_usd, r.usage, r.worker_id, r.lease_expires_at,
                  r.reused_from
           from jsonb_populate_record(t, u.s) r)
        where t.run_id = u.k->>0 and t.node_id = u.k->>1 and t.attempt = (u.k->>2)::integer;
      end loop;
      for u in select * from jsonb_to_recordset(p_batch->'n') as j(k jsonb, s jsonb) loop
        update node_runs t
        set (status, attempt, input, output, error, cost_usd, started_at, finished_at, next_attempt_at, prompt,
             wait_until, remote_ref, decision, taken, recoveries, interrupted, reused_from, retry_info, item_count) =
          (select r.status, r.attempt, r.input, r.output, r.error, r.cost_usd, r.started_at, r.finished_at,
                  r.next_attempt_at, r.prompt, r.wait_until, r.remote_ref, r.decision, r.taken, r.recoveries,
                  r.interrupted, r.reused_from, r.retry_info, r.item_count
           from jsonb_populate_record(t, u.s) r)
        where t.run_id = u.k->>0 and t.node_id = u.k->>1;
      end loop;
      for u in select * from jsonb_to_recordset(p_batch->'r') as j(k jsonb, s jsonb) loop
        update runs t
        set (status, output, error, cost_usd, started_at, finished_at, deadline_at, last_seq, worker_id,
             lease_expires_at, cancel_requested, retry_of, retry_info, parent_run_id, parent_node_id, depth) =
          (select r.status, r.output, r.error, r.cost_usd, r.started_at, r.finished_at, r.deadline_at, r.last_seq,
                  r.worker_id, r.lease_expires_at, r.cancel_requested, r.retry_of, r.retry_info, r.parent_run_id,
                  r.parent_node_id, r.depth
           from jsonb_populate_record(t, u.s) r)
        where t.id = u.k->>0;
      end loop;
      if p_batch ? 'notify' then
        perform pg_notify(m->>0, m->>1) from jsonb_array_elements(p_batch->'notify') m;
      end if;
    end $$`.execute(db);
}
