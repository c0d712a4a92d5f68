/**
 * The embedded SQLite database: one file, WAL mode, opened with better-sqlite3 (12.x; 13.x
 * crashes on Node 20). Kysely is layered over the same connection for typed queries; the
 * runner's hot path uses prepared statements on the raw connection (see docs/ARCHITECTURE.md).
 */
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import { StoreOpenError } from './errors.ts';
import { MIGRATIONS, migrationProvider } from './migrations/index.ts';
import type { Database } from './tables.ts';

export interface SqliteHandle {
  readonly dialect: 'sqlite';
  readonly path: string;
  readonly db: Kysely<Database>;
  readonly raw: BetterSqlite3.Database;
  close(): Promise<void>;
}

const SQLITE_MAGIC = 'SQLite format 3\u0000';

/**
 * Opens (creating if missing) a Trellis SQLite database and applies pending migrations.
 * A file that is not SQLite, is corrupt, or belongs to another application is refused with a
 * clear message and left untouched.
 */
export async function openSqlite(path: string, options: { migrate?: boolean } = {}): Promise<SqliteHandle> {
  if (path !== ':memory:') {
    if (existsSync(path)) {
      if (statSync(path).size > 0 && readHeader(path) !== SQLITE_MAGIC) {
        throw new StoreOpenError(`${path} is not a SQLite database; point --db at a Trellis database file or a new path`);
      }
    } else {
      mkdirSync(dirname(path), { recursive: true });
    }
  }
  let raw: BetterSqlite3.Database;
  try {
    raw = new BetterSqlite3(path);
    raw.pragma('journal_mode = WAL');
    // WAL + synchronous=NORMAL: every commit survives a process crash (SIGKILL); only an OS
    // crash or power loss can lose the last transactions. See docs/ARCHITECTURE.md.
    raw.pragma('synchronous = NORMAL');
    raw.pragma('busy_timeout = 5000');
    raw.pragma('foreign_keys = ON');
    // 4 MB of page cache: the rows running runs touch fit (a step reads and writes a handful of
    // pages); the rest of a large database stays in the OS page cache, not in the process.
    raw.pragma('cache_size = -4096');
    raw.pragma('temp_store = MEMORY');
    raw.pragma('wal_autocheckpoint = 8000');
    const check = raw.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new StoreOpenError(`${path} is corrupt (${String(check)}); restore it from a backup`);
  } catch (err) {
    if (err instanceof StoreOpenError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    throw new StoreOpenError(`cannot open ${path} as a Trellis database: ${msg}`, err);
  }
  const tables = raw
    .prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")
    .pluck()
    .all() as string[];
  if (tables.length > 0 && !tables.includes('trellis_meta')) {
    raw.close();
    throw new StoreOpenError(
      `${path} holds another application's tables (${tables.slice(0, 5).join(', ')}); Trellis will not touch it — use another --db path`,
    );
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) });
  const handle: SqliteHandle = {
    dialect: 'sqlite',
    path,
    db,
    raw,
    close: async () => {
      await db.destroy();
    },
  };
  if (options.migrate !== false) await migrate(handle);
  return handle;
}

/** Applies pending migrations. Refuses a database migrated by a newer Trellis. */
export async function migrate(handle: { db: Kysely<Database> }): Promise<string[]> {
  const migrator = new Migrator({
    db: handle.db,
    provider: migrationProvider,
    migrationTableName: 'trellis_migrations',
    migrationLockTableName: 'trellis_migrations_lock',
    // Features land with fixed, independent migration numbers in whatever order they merge, so
    // a database may have a later number applied before an earlier one arrives.
    allowUnorderedMigrations: true,
  });
  // Kysely lists only the migrations it knows, so read the applied ones from the table itself.
  const applied = await sql<{ name: string }>`select name from trellis_migrations`
    .execute(handle.db)
    .then((r) => r.rows.map((x) => x.name))
    .catch(() => [] as string[]);
  const unknown = applied.filter((n) => !(n in MIGRATIONS));
  if (unknown.length > 0)
    throw new StoreOpenError(`the database was migrated by a newer Trellis (${unknown.join(', ')}); upgrade Trellis`);
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw new StoreOpenError(`migration failed: ${error instanceof Error ? error.message : String(error)}`, error);
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

function readHeader(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(16);
    readSync(fd, buf, 0, 16, 0);
    return buf.toString('latin1');
  } finally {
    closeSync(fd);
  }
}
