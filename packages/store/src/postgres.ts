/**
 * Trellis on PostgreSQL: a `pg` Pool under Kysely's PostgresDialect, with the same migrations
 * as SQLite applied on open. Rows read back exactly as on SQLite: integers as numbers (int8 and
 * numeric parsers below), times as the ISO text the columns hold, text ordered bytewise
 * (migration 0003 gives every text column the "C" collation, SQLite's BINARY order).
 *
 * Failures are classified once, here: while opening, as a `StoreOpenError` saying what to fix
 * (server unreachable, credentials refused, database missing, newer schema); afterwards, a lost
 * connection or a restarting server surfaces as a retryable `STORE_UNAVAILABLE`, and the pool
 * reconnects on the next query.
 */
import { TrellisError } from '@trellis/core';
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import type pg from 'pg';
import { StoreOpenError } from './errors.ts';
import { MIGRATIONS } from './migrations/index.ts';
import { pgModule } from './pg-module.ts';
import { migrate } from './sqlite.ts';
import type { Database } from './tables.ts';

export interface PostgresHandle {
  readonly dialect: 'postgres';
  /** The URL with its password masked, for messages and logs. */
  readonly url: string;
  readonly db: Kysely<Database>;
  /** The pool (the hot path and the lease store query it directly). */
  readonly pool: pg.Pool;
  /** The connection settings, for dedicated connections (LISTEN) outside the pool. */
  readonly clientConfig: pg.ClientConfig;
  close(): Promise<void>;
}

export interface PostgresOptions {
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
  /** Pool size (default 10). Each worker or server process holds its own pool. */
  max?: number;
  /** How long to wait for a connection, opening or later (default 10 s). */
  connectTimeoutMs?: number;
  /** Shown in pg_stat_activity (default "trellis"). */
  applicationName?: string;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/**
 * Type parsers for this pool only (never the process-wide `pg.types`, which other code may
 * rely on): `count(*)`, `max()` and sums come back as int8/numeric, which `pg` returns as strings.
 */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (v: string) => Number(v);
    return pgModule().types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** True when `target` names a PostgreSQL server rather than a SQLite file. */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/** The URL without its password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}

/** Opens a pool to a Trellis PostgreSQL database and applies pending migrations. */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<PostgresHandle> {
  const shown = redactUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StoreOpenError(`${shown} is not a valid PostgreSQL URL; use postgres://user:password@host:5432/database`);
  }
  if (!isPostgresUrl(url)) throw new StoreOpenError(`${shown} is not a postgres:// URL`);
  const clientConfig: pg.ClientConfig = {
    connectionString: url,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    application_name: options.applicationName ?? 'trellis',
    keepAlive: true,
    types: TYPES,
  };
  const pool = new (pgModule().Pool)({ ...clientConfig, max: options.max ?? 10, idleTimeoutMillis: 30_000 });
  // An idle client whose server went away emits 'error' on the pool; without a listener that
  // would crash the process. The pool drops the client and the next query reconnects.
  pool.on('error', () => {});

  try {
    await pool.query('select 1');
  } catch (err) {
    await pool.end().catch(() => {});
    throw describeOpenError(err, parsed, shown);
  }

  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: guardedPool(pool) }) });
  const handle: PostgresHandle = {
    dialect: 'postgres',
    url: shown,
    db,
    pool,
    clientConfig,
    close: async () => {
      await db.destroy();
    },
  };
  try {
    await refuseForeignDatabase(pool, shown);
    await refuseNewerSchema(pool);
    if (options.migrate !== false) await migrate(handle);
  } catch (err) {
    await handle.close().catch(() => {});
    if (err instanceof StoreOpenError) throw err;
    throw new StoreOpenError(`cannot prepare ${shown}: ${messageOf(err)}`, err);
  }
  return handle;
}

/** A database holding tables but no Trellis schema belongs to someone else: never migrate it. */
async function refuseForeignDatabase(pool: pg.Pool, shown: string): Promise<void> {
  const res = await pool.query<{ table_name: string }>(
    `select table_name from information_schema.tables
     where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`,
  );
  const names = res.rows.map((r) => r.table_name);
  if (names.length > 0 && !names.includes('trellis_migrations')) {
    throw new StoreOpenError(
      `${shown} holds another application's tables (${names.slice(0, 5).join(', ')}); Trellis will not touch it — create a database for Trellis (createdb trellis) and point --db at it`,
    );
  }
}

/**
 * A database migrated by a newer Trellis names migrations this build does not know. Kysely
 * lists only the migrations it knows, so this reads the table itself.
 */
async function refuseNewerSchema(pool: pg.Pool): Promise<void> {
  const exists = await pool.query(
    `select 1 from information_schema.tables where table_schema = current_schema() and table_name = 'trellis_migrations'`,
  );
  if (exists.rowCount === 0) return;
  const res = await pool.query<{ name: string }>('select name from trellis_migrations order by name');
  const unknown = res.rows.map((r) => r.name).filter((n) => !(n in MIGRATIONS));
  if (unknown.length > 0)
    throw new StoreOpenError(`the database was migrated by a newer Trellis (${unknown.join(', ')}); upgrade Trellis to open it`);
}

function describeOpenError(err: unknown, url: URL, shown: string): StoreOpenError {
  const code = codeOf(err);
  const host = `${url.hostname || 'localhost'}:${url.port || '5432'}`;
  const user = decodeURIComponent(url.username || process.env.PGUSER || 'the default user');
  const database = decodeURIComponent(url.pathname.replace(/^\//, '') || user);
  const msg = messageOf(err);
  if (code === '28P01' || code === '28000')
    return new StoreOpenError(
      `PostgreSQL at ${host} refused the credentials for user "${user}" (${msg}); check the user name and password in ${shown}`,
      err,
    );
  if (code === '3D000')
    return new StoreOpenError(
      `database "${database}" does not exist on ${host}; create it (createdb ${database}) or fix the URL ${shown}`,
      err,
    );
  if (isConnectionError(err))
    return new StoreOpenError(
      `cannot reach PostgreSQL at ${host} (${msg}); is the server running, and are the host and port in ${shown} right?`,
      err,
    );
  return new StoreOpenError(`cannot open ${shown}: ${msg}`, err);
}

/**
 * Wraps the pool so every query Kysely runs (the areas, migrations) reports a lost server as
 * a retryable STORE_UNAVAILABLE instead of a driver error.
 */
function guardedPool(pool: pg.Pool): PostgresPool {
  return {
    connect: async () => {
      const client = await guardPg(() => pool.connect());
      const wrapped = {
        query: (text: string, params: readonly unknown[]) => guardPg(() => client.query(text, params as unknown[])),
        release: (destroy?: boolean) => client.release(destroy),
      };
      return wrapped as unknown as PostgresPoolClient;
    },
    end: () => pool.end(),
  };
}

/** Runs a database call, turning connection failures into a retryable STORE_UNAVAILABLE. */
export async function guardPg<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toStoreError(err);
  }
}

/** A connection failure as a retryable STORE_UNAVAILABLE; any other error unchanged. */
export function toStoreError(err: unknown): unknown {
  if (err instanceof TrellisError || !isConnectionError(err)) return err;
  return new TrellisError('STORE_UNAVAILABLE', `the database is unavailable (${messageOf(err)}); retry once it is back`, {
    category: 'system',
    retryable: true,
    cause: err,
  });
}

const NET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** SQLSTATEs of a server that is shutting down, starting, or out of connections. */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** True for errors that mean "the server is not there right now", not "the query is wrong". */
export function isConnectionError(err: unknown): boolean {
  const code = codeOf(err);
  if (code !== undefined && (NET_CODES.has(code) || UNAVAILABLE_STATES.has(code) || code.startsWith('08'))) return true;
  const msg = messageOf(err);
  return /Connection terminated|not queryable|timeout exceeded when trying to connect|connection timeout|Client was closed|terminating connection/i.test(
    msg,
  );
}

function codeOf(err: unknown): string | undefined {
  if (err && typeof err === 'object') {
    if ('code' in err && typeof err.code === 'string') return err.code;
    // AggregateError (several addresses refused): take the first inner code.
    if ('errors' in err && Array.isArray(err.errors)) return codeOf(err.errors[0]);
  }
  return undefined;
}

function messageOf(err: unknown): string {
  if (err instanceof Error) {
    if (err.message) return err.message;
    const code = codeOf(err);
    if (code) return code;
    return err.name;
  }
  return String(err);
}

export interface ListenOptions {
  /** First reconnect delay (default 100 ms); doubles up to `maxBackoffMs`. */
  minBackoffMs?: number;
  /** Longest reconnect delay (default 5 s). */
  maxBackoffMs?: number;
}

/**
 * LISTENs on a dedicated connection (never a pooled one: a pooled client would be handed to
 * other queries and lose its LISTENs). When the connection drops (network, server restart) it
 * reconnects with backoff, LISTENs again and reports `('reconnected', '')` so the caller can
 * re-scan for what it missed. The first connection must succeed (else STORE_UNAVAILABLE).
 */
export async function listenPostgres(
  config: pg.ClientConfig,
  channels: readonly string[],
  handler: (channel: string, payload: string) => void,
  options: ListenOptions = {},
): Promise<{ close(): Promise<void> }> {
  const minBackoff = options.minBackoffMs ?? 100;
  const maxBackoff = options.maxBackoffMs ?? 5_000;
  const listenSql = channels.map((c) => `listen ${pgModule().escapeIdentifier(c)}`).join('; ');
  let client: pg.Client | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let backoff = minBackoff;

  const deliver = (channel: string, payload: string) => {
    try {
      handler(channel, payload);
    } catch {
      // A failing handler must not take the listening connection down with it.
    }
  };

  const connect = async (): Promise<pg.Client> => {
    const c = new (pgModule().Client)(config);
    c.on('error', () => dropped(c));
    c.on('end', () => dropped(c));
    c.on('notification', (m) => deliver(m.channel, m.payload ?? ''));
    try {
      await c.connect();
      if (listenSql) await c.query(listenSql);
    } catch (err) {
      c.removeAllListeners('end');
      await c.end().catch(() => {});
      throw err;
    }
    return c;
  };

  const dropped = (c: pg.Client) => {
    if (closed || client !== c) return;
    client = undefined;
    c.end().catch(() => {});
    schedule();
  };

  const schedule = () => {
    if (closed || timer) return;
    timer = setTimeout(async () => {
      timer = undefined;
      try {
        const c = await connect();
        if (closed) {
          await c.end().catch(() => {});
          return;
        }
        client = c;
        backoff = minBackoff;
        deliver('reconnected', '');
      } catch {
        backoff = Math.min(backoff * 2, maxBackoff);
        schedule();
      }
    }, backoff);
  };

  client = await guardPg(connect);
  return {
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = undefined;
      if (c) await c.end().catch(() => {});
    },
  };
}
