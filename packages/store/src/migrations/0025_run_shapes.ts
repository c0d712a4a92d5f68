import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * PostgreSQL only (a no-op on SQLite): `trellis_commit` as 0024, with two changes that lower
 * the database's CPU per run (measured with pg_stat_statements on five-node runs, 4 in flight):
 *
 * - **The fence of a batch of several runs locks them one key lookup at a time.** Its generic
 *   plan (0019: `plan_cache_mode = force_generic_plan`) for `id = any(p_runs)` scanned the
 *   `runs_status` index for `lease_expires_at > now` and filtered by id, and even a plan by
 *   `runs_pkey` (a bitmap scan) cost 250–400 µs a call in pg_stat_statements at 2–3 runs a
 *   batch; a loop of primary-key lookups, the statement of the one-run fence, costs about 13 µs
 *   a run. The store sends the runs sorted, so they are locked in key order.
 * - **A run's start and its successful finish have shapes of their own**, like the node and
 *   attempt patches of 0024: `rs` (`status`, `started_at`) and `rf` (`status`, `output`,
 *   `finished_at`, `worker_id`, `lease_expires_at`: the lease given back in the same
 *   statement). The generic path built 16 `case when …` expressions per run patch (about 70 µs
 *   a call). Any other run patch keeps the generic path.
 *
 * Everything else is 0024's function (same signature, order: fence, inserts, patches,
 * notifications). A column added to these tables later must be added here by a new migration
 * (see 0004_commit_function.ts).
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
  /**
   * One shape's list, row by row: `update <table> set <its columns> where <primary key>`. The
   * loop walks the list by index (plain expressions, evaluated without starting an executor,
   * unlike a `for … in select` over the list; the list is taken out of the document once, so a
   * batch of thousands of rows is not copied once per row).
   */
  const shaped = (list: string, table: string, key: readonly string[], cols: readonly (readonly [string, string])[]) => {
    const value = ([c, type]: readonly [string, string]) => (type === 'text' ? `jr->>'${c}'` : `(jr->>'${c}')::${type}`);
    return `
      if p_batch ? '${list}' then
        jl := p_batch->'${list}';
        for ji in 0 .. jsonb_array_length(jl) - 1 loop
          jr := jl->ji;
          update ${table} t set ${cols.map((c) => `${c[0]} = ${value(c)}`).join(', ')}
          where ${key.map((k) => `t.${k} = ${value([k, k === 'attempt' ? 'integer' : 'text'])}`).join(' and ')};
        end loop;
      end if;`;
  };
  const nodeStart = [
    ['status', 'text'],
    ['attempt', 'integer'],
    ['started_at', 'text'],
  ] as const;
  const nodeFinish = [
    ['status', 'text'],
    ['output', 'text'],
    ['error', 'text'],
    ['cost_usd', 'double precision'],
    ['finished_at', 'text'],
    ['taken', 'text'],
  ] as const;
  const nodeKey = ['run_id', 'node_id'];
  await sql
    .raw(`
    create or replace function trellis_commit(p_worker text, p_runs text[], p_batch jsonb) returns void
    language plpgsql
    as $$
    declare
      u record;
      jl jsonb;
      jr jsonb;
      ji integer;
      held integer;
    begin
      if p_worker is not null and cardinality(p_runs) > 0 then
        if cardinality(p_runs) = 1 then
          -- One run (the rule): a plain key lookup.
          perform 1 from runs
          where id = p_runs[1] and worker_id = p_worker and lease_expires_at > trellis_iso(now())
          for update;
          get diagnostics held = row_count;
        else
          -- One key lookup per run, in the order given (the store sends them sorted, the order
          -- of runs_pkey, in which a heartbeat's UPDATE locks them too).
          held := 0;
          for ji in 1 .. cardinality(p_runs) loop
            perform 1 from runs
            where id = p_runs[ji] and worker_id = p_worker and lease_expires_at > trellis_iso(now())
            for update;
            if found then
              held := held + 1;
            end if;
          end loop;
        end if;
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
      -- Patches of a common shape: each sets only its columns.
      ${shaped(
        'ae',
        'attempts',
        ['run_id', 'node_id', 'attempt'],
        [
          ['status', 'text'],
          ['finished_at', 'text'],
        ],
      )}
      ${shaped('ns', 'node_runs', nodeKey, nodeStart)}
      ${shaped('nf', 'node_runs', nodeKey, nodeFinish)}
      ${shaped('nsf', 'node_runs', nodeKey, [...nodeStart, ...nodeFinish.slice(1)])}
      ${shaped(
        'rs',
        'runs',
        ['id'],
        [
          ['status', 'text'],
          ['started_at', 'text'],
        ],
      )}
      ${shaped(
        'rf',
        'runs',
        ['id'],
        [
          ['status', 'text'],
          ['output', 'text'],
          ['finished_at', 'text'],
          ['worker_id', 'text'],
          ['lease_expires_at', 'text'],
        ],
      )}
      -- Any other patch, row by row: each UPDATE is one primary-key lookup with a cached plan.
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
