import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * PostgreSQL-only parts of the schema (a no-op on SQLite):
 *
 * - Every text column gets the "C" collation: bytewise order, as SQLite's BINARY. Ids, names
 *   and ISO times then sort and compare identically on both dialects, whatever locale the
 *   user's database was created with, and ISO-time comparisons stay index-friendly text compares.
 * - `trellis_iso(t)`: a time as the ISO-8601 text every time column holds, so the database's
 *   clock (`now()`) can be compared with and written into those columns.
 * - `trellis_fence(worker, run_ids)`: locks the runs a fenced commit touches and raises
 *   SQLSTATE TR001 unless this worker holds an unexpired lease on each of them. It is the first
 *   statement of a fenced commit, so a stale worker's late commit rolls back entirely.
 * - `trellis_claim_key(scope, key, run_id, at)`: records an idempotency key for a new run, or
 *   raises SQLSTATE TR002 with the existing run's id as DETAIL. As the first statement of the
 *   run's creating batch, it makes an idempotent start one round trip: the winner's batch
 *   commits, a repeat's batch rolls back and names the run it repeats.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against any database shape
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  const tables = [
    'trellis_meta',
    'workflows',
    'workflow_versions',
    'runs',
    'node_runs',
    'attempts',
    'events',
    'users',
    'api_tokens',
    'permissions',
    'templates',
    'idempotency_keys',
    'agents',
    'tool_servers',
  ];
  const cols = await sql<{ table_name: string; column_name: string }>`
    select table_name, column_name from information_schema.columns
    where table_schema = current_schema() and data_type = 'text' and table_name in (${sql.join(tables)})
    order by table_name, ordinal_position`.execute(db);
  const byTable = new Map<string, string[]>();
  for (const c of cols.rows) byTable.set(c.table_name, [...(byTable.get(c.table_name) ?? []), c.column_name]);
  for (const [table, names] of byTable) {
    const alters = names.map((n) => sql`alter column ${sql.ref(n)} type text collate "C"`);
    await sql`alter table ${sql.table(table)} ${sql.join(alters)}`.execute(db);
  }

  await sql`
    create or replace function trellis_iso(t timestamptz) returns text
    language sql stable strict parallel safe
    as $$ select to_char(t at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$`.execute(db);

  await sql`
    create or replace function trellis_fence(p_worker text, p_runs text[]) returns void
    language plpgsql
    as $$
    declare
      held text[];
      lost text[];
    begin
      select coalesce(array_agg(id), '{}') into held from (
        select id from runs
        where id = any(p_runs) and worker_id = p_worker and lease_expires_at > trellis_iso(now())
        for update
      ) s;
      if cardinality(held) < cardinality(p_runs) then
        lost := array(select unnest(p_runs) except select unnest(held) order by 1);
        raise exception 'worker % no longer holds the lease on run(s) %', p_worker, array_to_string(lost, ', ')
          using errcode = 'TR001', detail = array_to_json(lost)::text;
      end if;
    end $$`.execute(db);

  await sql`
    create or replace function trellis_claim_key(p_scope text, p_key text, p_run text, p_at text) returns void
    language plpgsql
    as $$
    declare
      existing text;
    begin
      insert into idempotency_keys (scope, key, run_id, created_at) values (p_scope, p_key, p_run, p_at)
      on conflict do nothing;
      if not found then
        -- A concurrent first start waited for above has committed: its row is visible now.
        select run_id into existing from idempotency_keys where scope = p_scope and key = p_key;
        raise exception 'idempotency key already used by run %', existing using errcode = 'TR002', detail = existing;
      end if;
    end $$`.execute(db);
}
