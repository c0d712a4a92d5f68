import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * PostgreSQL only (a no-op on SQLite): `trellis_commit` knows `attempts.lease_lost`, and fences
 * without a nested call.
 *
 * - **`lease_lost`** (migration 0018) is written by the function: an attempt that ended because
 *   its worker stopped is inserted or patched with it. Before, a batch holding such an attempt
 *   named a column the function did not know and was committed statement by statement (same
 *   result, one parse and plan per statement).
 * - **The fence, inline.** A fenced commit used to call `trellis_fence` (a second PL/pgSQL
 *   function: an aggregate into an array, a set difference) on every commit. Now the commit
 *   locks the runs it writes (`for update`, as before) and counts them; only when a lease is
 *   missing does it call `trellis_fence`, which raises TR001 naming the runs (the rows it
 *   checks are locked already, so its answer is the same one). Same guarantee, same error.
 *
 * - **Plans made once.** PL/pgSQL caches each statement's plan, but PostgreSQL re-plans a
 *   cached statement with parameters for every call while a plan made for the parameters'
 *   values looks cheaper than the generic one, which is the case for the fence (`id =
 *   any(runs)`: the generic plan cannot know there is one run) and the patches: a profile of
 *   the committing backend showed a fifth of its CPU in the planner, re-planning on every
 *   commit. The function runs with `plan_cache_mode = force_generic_plan`: every statement in
 *   it is a primary-key lookup or an insert, whose generic plan is the plan.
 *
 * Everything else is 0017's function (same signature, same document). A column added to these
 * tables later must be added here by a new migration (see 0004_commit_function.ts).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against any database shape
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
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
    ['lease_lost', 'integer'],
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
    set plan_cache_mode = force_generic_plan
    as $$
    declare
      u record;
      held integer;
    begin
      if p_worker is not null and cardinality(p_runs) > 0 then
        perform 1 from runs
        where id = any(p_runs) and worker_id = p_worker and lease_expires_at > trellis_iso(now())
        for update;
        get diagnostics held = row_count;
        if held < cardinality(p_runs) then
          -- Raises TR001 naming the runs whose lease this worker lost.
          perform trellis_fence(p_worker, p_runs);
        end if;
      end if;
      if p_batch ? 'e' then
        insert into events (run_id, seq, type, node_id, at, data)
        select x.run_id, x.seq, x.type, x.node_id, x.at, x.data
        from jsonb_populate_recordset(null::events, p_batch->'e') x;
      end if;
      if p_batch ? 'a' then
        insert into attempts (run_id, node_id, attempt, status, started_at, finished_at, error, cost_usd, usage,
                              worker_id, lease_expires_at, reused_from, lease_lost)
        select x.run_id, x.node_id, x.attempt, x.status, x.started_at, x.finished_at, x.error, x.cost_usd, x.usage,
               x.worker_id, x.lease_expires_at, x.reused_from, coalesce(x.lease_lost, 0)
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
