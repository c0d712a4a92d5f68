import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * PostgreSQL only (a no-op on SQLite): `trellis_commit` writes the common patches with
 * statements of their own shape.
 *
 * A tool step in a chain commits one batch: three events, the next node's attempt inserted,
 * the finished attempt's end, the finished node's row and the next node's row. Each patch
 * used to go through one UPDATE per table whose SET lists every patchable column as `case
 * when u.s ? 'col' then … else t.col end`: PostgreSQL builds that projection (19 expressions
 * for a node row) at every execution, and a profile of the committing backend showed it as the
 * largest single part of the statements' start-up. The batch document now carries the common
 * shapes in lists of their own (built by `batchDocument`, pg-run-store.ts, which classifies a
 * patch by its exact set of columns), each written by an UPDATE that sets only its columns:
 *
 * - `ns`: a node starts (`status`, `attempt`, `started_at`);
 * - `nf`: a node finishes (`status`, `output`, `error`, `cost_usd`, `finished_at`, `taken`);
 * - `nsf`: both in one batch (a built-in node);
 * - `ae`: an attempt ends (`status`, `finished_at`).
 *
 * Every other patch (`n`, `au`, `r`) keeps the per-column path, so a batch of any
 * shape is written as before; a batch naming a column the function does not know still
 * commits statement by statement. An attempt's patch in the batch that inserts it is merged
 * into the inserted row by `batchDocument`. Each list is applied row by row, a primary-key
 * lookup with a plan made once (see 0019: generic plans), walking the list by index rather
 * than with `for … in select` (each such query is one more executor start-up per batch).
 * Measured (committing backend's CPU, the same chain steps through both functions,
 * interleaved): 15–22 % less per tool step than 0019, with the fence and the setting below.
 * Tried and not kept: one `update … from jsonb_to_recordset(…)` per shape (its generic plan
 * may join by a sequential scan: some rounds took 15 times longer), and an attempt's end
 * written by the next attempt's insert (`on conflict do update`; no cheaper than the end's
 * own update). See docs/postgres.md, "Where a tool step goes".
 *
 * **Generic plans, set by the session.** 0019 made the function run with `plan_cache_mode =
 * force_generic_plan` (so its statements are not re-planned per call); as a SET clause of the
 * function that costs every call a settings save and restore (about 20 µs, a twentieth of a
 * step). The store's commit connection sets it for its session instead (pg-run-store.ts,
 * `committer`); called from any other session the function is as correct, only slower. A
 * batch fencing one run (the rule) locks it by `id = p_runs[1]`, a plain key lookup.
 *
 * Everything else is 0019's function (same signature, fence, order: inserts, then patches,
 * then notifications). A column added to these tables later must be added here by a new
 * migration (see 0004_commit_function.ts).
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
        -- One run (the rule): a plain key lookup, cheaper than the array's.
        if cardinality(p_runs) = 1 then
          perform 1 from runs
          where id = p_runs[1] and worker_id = p_worker and lease_expires_at > trellis_iso(now())
          for update;
        else
          perform 1 from runs
          where id = any(p_runs) and worker_id = p_worker and lease_expires_at > trellis_iso(now())
          for update;
        end if;
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
