/**
 * One entry point for callers (CLI, server, worker): a target string picks the dialect — a
 * `postgres://` or `postgresql://` URL opens PostgreSQL, anything else is a SQLite file path.
 * Callers read TRELLIS_DB / --db themselves and pass the value here; this module reads no
 * environment, so tests can open both dialects side by side in one process.
 */
import type { Kysely } from 'kysely';
import { isPostgresUrl, openPostgres, type PostgresHandle, type PostgresOptions } from './postgres.ts';
import type { RunLeaseStore } from './runs/lease-store.ts';
import { PgRunStore } from './runs/pg-run-store.ts';
import type { RunStore } from './runs/run-store.ts';
import { SqliteRunStore } from './runs/sqlite-run-store.ts';
import { openSqlite, type SqliteHandle } from './sqlite.ts';
import type { Database } from './tables.ts';

export type StoreHandle = SqliteHandle | PostgresHandle;

/** An open store: the typed query builder for the areas, the runs area, and (PostgreSQL) leases. */
export interface Store {
  readonly dialect: StoreHandle['dialect'];
  readonly handle: StoreHandle;
  /** For the area functions (workflows, auth, permissions, templates, agents, tool servers). */
  readonly db: Kysely<Database>;
  readonly runs: RunStore;
  /** Multi-worker claiming, leases, fencing and notifications; undefined on SQLite (one process). */
  readonly leases: RunLeaseStore | undefined;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
  /** PostgreSQL pool settings (ignored for SQLite). */
  postgres?: Omit<PostgresOptions, 'migrate'>;
}

/** True when `target` would open PostgreSQL. */
export { isPostgresUrl };

/** Opens the store `target` names: a SQLite path or a PostgreSQL URL. */
export async function openStore(target: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (isPostgresUrl(target)) {
    const handle = await openPostgres(target, { ...options.postgres, migrate: options.migrate ?? true });
    const runs = new PgRunStore(handle);
    return {
      dialect: 'postgres',
      handle,
      db: handle.db,
      runs,
      leases: runs,
      close: async () => {
        await runs.close();
        await handle.close();
      },
    };
  }
  const handle = await openSqlite(target, { migrate: options.migrate ?? true });
  return {
    dialect: 'sqlite',
    handle,
    db: handle.db,
    runs: new SqliteRunStore(handle),
    leases: undefined,
    close: () => handle.close(),
  };
}
