/**
 * The runs area on PostgreSQL, and the lease store for many workers. Same semantics as
 * SqliteRunStore (one suite tests both).
 *
 * Hot path: a batch (`commit`, `commitFenced`) is ONE round trip, on a connection kept for commits. Its statements are rendered
 * with escaped literals into one multi-statement text sent over the simple-query protocol,
 * which PostgreSQL runs as one implicit transaction: all or nothing, and any `pg_notify` in it
 * is delivered only on commit. Sending statements one by one with parameters would cost one
 * network round trip each (node-postgres does not pipeline). Reads that take parameters use
 * named (prepared-once-per-connection) statements.
 */
import type { GateDecision, RunEvent, RunRecord, RunStatus } from '@trellis/core';
import type pg from 'pg';
import { pgModule } from '../pg-module.ts';
import { guardPg, isConnectionError, listenPostgres, type PostgresHandle, toStoreError } from '../postgres.ts';
import type { AttemptsTable, EventsTable, NodeRunsTable, RunsTable } from '../tables.ts';
import { InvalidCursorError } from './errors.ts';
import {
  CHANNELS,
  checkNotification,
  LeaseLostError,
  type Notification,
  type NotificationHandler,
  type RunLeaseStore,
  runIdsOf,
  type Subscription,
} from './lease-store.ts';
import {
  ATTEMPT_COLUMNS,
  EVENT_COLUMNS,
  eventRow,
  iso,
  type LoadedRun,
  loadedRunFrom,
  lowerWrites,
  NEW_RUN_COLUMNS,
  newRunRow,
  pastRunFrom,
  RETRY_NODE_COLUMNS,
  type RowOp,
  RUN_COLUMNS,
  type RunWriteOp,
  retryNodeRow,
  reusedRowKeys,
  runStatusOf,
} from './mapping.ts';
import { callPrepared, PreparedStatement, textArrayLiteral } from './pg-prepared-call.ts';
import { decodeCursor, encodeCursor, toRunEvent, toRunRecord, toRunSummary } from './record.ts';
import type { NewRetry, NewRun, PastRun, RunListPage, RunStore } from './run-store.ts';

/** SQLSTATE raised by trellis_fence (migration 0003). */
const FENCE_STATE = 'TR001';
/** SQLSTATE raised by trellis_claim_key (migration 0003): the idempotency key is taken. */
const KEY_USED_STATE = 'TR002';
const UNIQUE_VIOLATION = '23505';

/** A value as an SQL literal. Strings are escaped by node-postgres (standard_conforming_strings). */
export function literal(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`cannot store the number ${v}`);
    return String(v);
  }
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'string') return pgModule().escapeLiteral(v);
  throw new TypeError(`cannot store a ${typeof v} in a column`);
}

/** Column names come from our typed row patches; checked anyway, since they are not escaped. */
function column(name: string): string {
  if (!/^[a-z_]+$/.test(name)) throw new TypeError(`invalid column name ${JSON.stringify(name)}`);
  return name;
}

function insertSql<T extends object>(table: string, cols: readonly (keyof T & string)[], rows: readonly T[]): string {
  const values = rows.map((r) => `(${cols.map((c) => literal(r[c])).join(', ')})`).join(', ');
  return `insert into ${table} (${cols.join(', ')}) values ${values}`;
}

function updateSql(table: string, set: object, where: string): string | undefined {
  const entries = Object.entries(set);
  if (entries.length === 0) return undefined;
  return `update ${table} set ${entries.map(([c, v]) => `${column(c)} = ${literal(v)}`).join(', ')} where ${where}`;
}

/**
 * The statements of a batch, in order. Consecutive event and attempt inserts are merged into
 * one multi-row insert each (most of a batch is events).
 */
export function batchSql(ops: readonly RowOp[]): string[] {
  const out: string[] = [];
  let events: EventsTable[] = [];
  let attempts: AttemptsTable[] = [];
  const flush = () => {
    if (events.length) out.push(insertSql('events', EVENT_COLUMNS, events));
    if (attempts.length) out.push(insertSql('attempts', ATTEMPT_COLUMNS, attempts));
    events = [];
    attempts = [];
  };
  for (const op of ops) {
    switch (op.op) {
      case 'event':
        if (attempts.length) flush();
        events.push(op.row);
        break;
      case 'attempt.insert':
        if (events.length) flush();
        attempts.push(op.row);
        break;
      case 'attempt.update': {
        flush();
        const s = updateSql(
          'attempts',
          op.set,
          `run_id = ${literal(op.runId)} and node_id = ${literal(op.nodeId)} and attempt = ${literal(op.attempt)}`,
        );
        if (s) out.push(s);
        break;
      }
      case 'node': {
        flush();
        const s = updateSql('node_runs', op.set, `run_id = ${literal(op.runId)} and node_id = ${literal(op.nodeId)}`);
        if (s) out.push(s);
        break;
      }
      case 'run': {
        flush();
        const s = updateSql('runs', op.set, `id = ${literal(op.runId)}`);
        if (s) out.push(s);
        break;
      }
      case 'item.start':
        flush();
        out.push(
          `insert into node_runs (run_id, node_id, status, attempt, cost_usd, started_at) values (${literal(op.runId)}, ${literal(op.nodeId)}, 'running', ${literal(op.attempt)}, 0, ${literal(op.at)}) on conflict (run_id, node_id) do update set status = 'running', attempt = excluded.attempt, next_attempt_at = null`,
        );
        break;
      default: {
        const never: never = op;
        throw new Error(`unknown write op ${JSON.stringify(never)}`);
      }
    }
  }
  flush();
  return out;
}

/** A retry's statements: its prewritten node rows and its reused nodes' copied attempts. */
function retrySql(runId: string, retry: NewRetry): string[] {
  const out: string[] = [];
  if (retry.nodes.length)
    out.push(
      insertSql(
        'node_runs',
        RETRY_NODE_COLUMNS,
        retry.nodes.map((n) => retryNodeRow(runId, n)),
      ),
    );
  const nodeIds = reusedRowKeys(retry.nodes);
  if (nodeIds.length) {
    const from = literal(retry.fromRunId);
    out.push(
      `insert into attempts (${ATTEMPT_COLUMNS.join(', ')}, reused_from)
       select ${literal(runId)}, node_id, attempt, status, started_at, finished_at, error, cost_usd, usage, null, null, coalesce(reused_from, ${from})
       from attempts where run_id = ${from} and node_id = any(array[${nodeIds.map(literal).join(', ')}]::text[])`,
    );
  }
  return out;
}

/**
 * Columns `trellis_commit` (migrations 0004, 0017, 0019) writes, per table: patched columns, and the columns
 * of inserted attempt and event rows. A batch naming any other column (one added by a later
 * migration) is committed statement by statement instead: correct, only slower. Adding a
 * column here means re-creating the function with it (see 0004_commit_function.ts, 0019_commit_path.ts).
 */
const FAST_INSERT_COLUMNS = {
  events: new Set<string>(EVENT_COLUMNS),
  attempts: new Set<string>([...ATTEMPT_COLUMNS, 'reused_from', 'lease_lost']),
};
const FAST_PATCH_COLUMNS = {
  attempts: new Set([
    'status',
    'started_at',
    'finished_at',
    'error',
    'cost_usd',
    'usage',
    'worker_id',
    'lease_expires_at',
    'reused_from',
    'lease_lost',
  ]),
  node_runs: new Set([
    'status',
    'attempt',
    'input',
    'output',
    'error',
    'cost_usd',
    'started_at',
    'finished_at',
    'next_attempt_at',
    'prompt',
    'wait_until',
    'remote_ref',
    'decision',
    'taken',
    'recoveries',
    'interrupted',
    'reused_from',
    'retry_info',
    'item_count',
  ]),
  runs: new Set([
    'status',
    'output',
    'error',
    'cost_usd',
    'started_at',
    'finished_at',
    'deadline_at',
    'last_seq',
    'worker_id',
    'lease_expires_at',
    'cancel_requested',
    'retry_of',
    'retry_info',
    'parent_run_id',
    'parent_node_id',
    'depth',
  ]),
} as const;

/** A column value as JSON for trellis_commit: the same values `literal` accepts, nothing else. */
function jsonValue(v: unknown): string | number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`cannot store the number ${v}`);
    return v;
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') return v;
  throw new TypeError(`cannot store a ${typeof v} in a column`);
}

/**
 * A row or patch as trellis_commit reads it, or undefined when it names a column outside
 * `allowed`. The object itself when every value already is its JSON (a string, a finite
 * number, null), which is the rule: the document is then one JSON.stringify over the batch's
 * own objects. Otherwise (a boolean, a bigint, an undefined that must be written as null) a
 * converted copy.
 */
function columnsOf(row: object, allowed: ReadonlySet<string>): object | undefined {
  let plain = true;
  for (const c in row) {
    if (!allowed.has(c)) return undefined;
    const v = (row as Record<string, unknown>)[c];
    if (typeof v === 'string' || v === null) continue;
    if (typeof v === 'number' && Number.isFinite(v)) continue;
    plain = false;
  }
  if (plain) return row;
  const out: Record<string, string | number | null> = {};
  for (const c in row) out[c] = jsonValue((row as Record<string, unknown>)[c]);
  return out;
}

/** Pending patches of one table, by row key: a second patch of a row merges into a copy. */
class Patches {
  readonly rows = new Map<string, { k: unknown[]; s: object; copied: boolean }>();
  add(key: string, k: unknown[], s: object): void {
    const prev = this.rows.get(key);
    if (!prev) this.rows.set(key, { k, s, copied: false });
    else {
      if (!prev.copied) {
        prev.s = { ...prev.s };
        prev.copied = true;
      }
      Object.assign(prev.s, s);
    }
  }
}

/**
 * The patch shapes `trellis_commit` (migration 0024) writes with a statement of their own,
 * which sets only the shape's columns: a patch whose columns are exactly one of these sets.
 * Every other patch takes the per-column path (`n`, `au`, `r`), which works for any column the
 * function knows. A tool step in a chain is one node finished, the next one started and their
 * attempts ended and inserted; a built-in node starts and finishes in one batch.
 */
const NODE_START = ['status', 'attempt', 'started_at'] as const;
const NODE_FINISH = ['status', 'output', 'error', 'cost_usd', 'finished_at', 'taken'] as const;
const NODE_SHAPES = [
  ['ns', new Set<string>(NODE_START)],
  ['nf', new Set<string>(NODE_FINISH)],
  ['nsf', new Set<string>([...NODE_START, ...NODE_FINISH])],
] as const;
const ATTEMPT_SHAPES = [['ae', new Set<string>(['status', 'finished_at'])]] as const;
/** A run's start, and its successful finish giving the lease back (0025_run_shapes). */
const RUN_SHAPES = [
  ['rs', new Set<string>(['status', 'started_at'])],
  ['rf', new Set<string>(['status', 'output', 'finished_at', 'worker_id', 'lease_expires_at'])],
] as const;

/** Per patched table: its shapes, its row key in a shape's list, the columns of the per-column path. */
const PATCHED = {
  attempts: {
    shapes: ATTEMPT_SHAPES,
    key: (k: unknown[]) => ({ run_id: k[0], node_id: k[1], attempt: k[2] }),
    allowed: FAST_PATCH_COLUMNS.attempts,
  },
  node_runs: {
    shapes: NODE_SHAPES,
    key: (k: unknown[]) => ({ run_id: k[0], node_id: k[1] }),
    allowed: FAST_PATCH_COLUMNS.node_runs,
  },
  runs: { shapes: RUN_SHAPES, key: (k: unknown[]) => ({ id: k[0] }), allowed: FAST_PATCH_COLUMNS.runs },
} as const;

/** True when `set` names exactly the columns of `shape`. */
function hasShape(set: object, shape: ReadonlySet<string>): boolean {
  let n = 0;
  for (const c in set) {
    if (!shape.has(c)) return false;
    n++;
  }
  return n === shape.size;
}

/**
 * Puts a patch of one of `shapes` in that shape's list of `doc`, as one flat object of its row
 * key and columns; false when the patch has none of these shapes.
 */
function addShaped(
  doc: Record<string, unknown>,
  shapes: readonly (readonly [string, ReadonlySet<string>])[],
  key: Record<string, unknown>,
  set: object,
): boolean {
  const name = shapes.find(([, shape]) => hasShape(set, shape))?.[0];
  if (name === undefined) return false;
  const row: Record<string, unknown> = key;
  for (const c in set) row[c] = jsonValue((set as Record<string, unknown>)[c]);
  const list = (doc[name] as object[] | undefined) ?? [];
  list.push(row);
  doc[name] = list;
  return true;
}

/**
 * The per-column path: `{ k, s }` of every patch `addShaped` did not take, or undefined when one
 * names a column outside `allowed`.
 */
function unshaped(
  doc: Record<string, unknown>,
  patches: Patches,
  shapes: readonly (readonly [string, ReadonlySet<string>])[],
  key: (k: unknown[]) => Record<string, unknown>,
  allowed: ReadonlySet<string>,
): { k: unknown[]; s: object }[] | undefined {
  const out: { k: unknown[]; s: object }[] = [];
  for (const { k, s } of patches.rows.values()) {
    if (addShaped(doc, shapes, key(k), s)) continue;
    const set = columnsOf(s, allowed);
    if (set === undefined) return undefined;
    out.push({ k, s: set });
  }
  return out;
}

/**
 * A batch as the JSON document `trellis_commit` applies (inserts, then patches, then
 * notifications), or undefined when it names a column the function does not know. Patches
 * of one row merge in order, as consecutive UPDATEs would; a patch of an attempt this batch
 * inserts is merged into the inserted row (the function inserts before it patches, so the
 * result is the same, with one statement fewer). Patches of a common shape (see NODE_SHAPES)
 * go to that shape's list.
 */
export function batchDocument(ops: readonly RowOp[], notify: readonly Notification[] = []): string | undefined {
  const e: object[] = [];
  const a: object[] = [];
  /** Attempt inserts by key, while they are still the batch's own objects (copied before a merge). */
  const inserted = new Map<string, { row: AttemptsTable; copied: boolean; at: number }>();
  const au = new Patches();
  const n = new Patches();
  const r = new Patches();
  for (const op of ops) {
    switch (op.op) {
      case 'event': {
        const row = columnsOf(op.row, FAST_INSERT_COLUMNS.events);
        if (row === undefined) return undefined;
        e.push(row);
        break;
      }
      case 'attempt.insert': {
        const key = `${op.row.run_id}|${op.row.node_id}|${op.row.attempt}`;
        if (inserted.has(key)) return undefined; // a key inserted twice fails as statements would
        inserted.set(key, { row: op.row, copied: false, at: a.length });
        a.push(op.row);
        break;
      }
      case 'attempt.update': {
        const key = `${op.runId}|${op.nodeId}|${op.attempt}`;
        const ins = inserted.get(key);
        if (ins) {
          if (!ins.copied) {
            ins.row = { ...ins.row };
            ins.copied = true;
            a[ins.at] = ins.row;
          }
          Object.assign(ins.row, op.set);
        } else au.add(key, [op.runId, op.nodeId, op.attempt], op.set);
        break;
      }
      case 'node':
        n.add(`${op.runId}|${op.nodeId}`, [op.runId, op.nodeId], op.set);
        break;
      case 'run':
        r.add(op.runId, [op.runId], op.set);
        break;
      case 'item.start':
        // An upsert that must land between the patches around it (a map item's retry):
        // such a batch keeps the statement order.
        return undefined;
      default: {
        const never: never = op;
        throw new Error(`unknown write op ${JSON.stringify(never)}`);
      }
    }
  }
  const doc: Record<string, unknown> = {};
  if (e.length) doc.e = e;
  if (a.length) {
    for (let i = 0; i < a.length; i++) {
      const row = columnsOf(a[i] as object, FAST_INSERT_COLUMNS.attempts);
      if (row === undefined) return undefined;
      a[i] = row;
    }
    doc.a = a;
  }
  for (const [name, patches, { shapes, key, allowed }] of [
    ['au', au, PATCHED.attempts],
    ['n', n, PATCHED.node_runs],
    ['r', r, PATCHED.runs],
  ] as const) {
    const rest = unshaped(doc, patches, shapes, key, allowed);
    if (rest === undefined) return undefined;
    if (rest.length) doc[name] = rest;
  }
  if (notify.length) {
    for (const x of notify) checkNotification(x);
    doc.notify = notify.map((x) => [x.channel, x.payload]);
  }
  return JSON.stringify(doc);
}

function notifySql(notify: readonly Notification[]): string[] {
  return notify.map((n) => {
    checkNotification(n);
    return `select pg_notify(${literal(n.channel)}, ${literal(n.payload)})`;
  });
}

/** The commit function as the commit connection's prepared statement (see `apply`). */
const COMMIT_STATEMENT = new PreparedStatement('trellis_commit', 'select from trellis_commit($1, $2, $3)');

/** A lease's end: the database's now + ms, as ISO text. */
const leaseEnd = (param: string) => `trellis_iso(now() + ${param} * interval '1 millisecond')`;

export class PgRunStore implements RunStore, RunLeaseStore {
  /** Every commit is a network round trip and a function call with a fixed cost. */
  readonly remoteCommits = true;
  private readonly pool: pg.Pool;
  /** The connection batches commit on (see `committer`); undefined until the first commit. */
  private commitConnection: Promise<pg.Client> | undefined;
  /** The commit connection once connected (the same client `commitConnection` resolves to). */
  private commitClient: pg.Client | undefined;
  private closed = false;

  constructor(private readonly handle: Pick<PostgresHandle, 'pool' | 'clientConfig'>) {
    this.pool = handle.pool;
  }

  /**
   * Batches commit on a connection of their own, not a pooled one: a runner has one commit in
   * flight at a time (and node-postgres queues concurrent ones in order), so a pool adds only
   * its checkout and bookkeeping to every step. A dropped connection is replaced on the next
   * commit; the pool serves everything else.
   */
  private committer(): Promise<pg.Client> {
    if (this.closed) return Promise.reject(toStoreError(new Error('Client was closed')));
    if (this.commitConnection) return this.commitConnection;
    const client = new (pgModule().Client)(this.handle.clientConfig);
    // Statements in trellis_commit keep plans made once (see migration 0024); set for the
    // session rather than on the function, whose SET clause costs every call a GUC save and restore.
    const connecting: Promise<pg.Client> = client
      .connect()
      .then(() => client.query('set plan_cache_mode = force_generic_plan'))
      .then(
        () => {
          if (this.commitConnection === connecting) this.commitClient = client;
          return client;
        },
        (err) => {
          this.dropCommitter(connecting, client);
          throw err;
        },
      );
    // An idle connection whose server went away emits 'error'; without a listener that would
    // crash the process. It is dropped and the next commit connects again.
    client.on('error', () => this.dropCommitter(connecting, client));
    client.on('end', () => this.dropCommitter(connecting, client));
    this.commitConnection = connecting;
    return connecting;
  }

  private dropCommitter(which: Promise<pg.Client>, client: pg.Client): void {
    if (this.commitConnection === which) {
      this.commitConnection = undefined;
      this.commitClient = undefined;
    }
    client.end().catch(() => {});
  }

  /** Ends the commit connection (the pool is ended by the handle). */
  async close(): Promise<void> {
    this.closed = true;
    const which = this.commitConnection;
    this.commitConnection = undefined;
    this.commitClient = undefined;
    const client = await which?.catch(() => undefined);
    await client?.end().catch(() => {});
  }

  /**
   * One call on the commit connection: the commit function's prepared statement with these
   * parameters, or a text of statements. A connection failure drops the connection
   * (STORE_UNAVAILABLE); the next call connects again.
   */
  private async onCommitter(call: readonly (string | null)[] | string): Promise<void> {
    const which = this.committer();
    let client: pg.Client | undefined;
    try {
      // The connected client itself when there is one: awaiting its promise would cost a turn.
      client = this.commitClient ?? (await which);
      if (typeof call === 'string') await client.query(call);
      else await callPrepared(client, COMMIT_STATEMENT, call);
    } catch (err) {
      if (isConnectionError(err) && client) this.dropCommitter(which, client);
      throw toStoreError(err);
    }
  }

  /** Runs a multi-statement text as one implicit transaction; one result per statement. */
  private async multi(statements: readonly string[]): Promise<pg.QueryResult[]> {
    if (statements.length === 0) return [];
    const res = (await guardPg(() => this.pool.query(statements.join(';\n')))) as pg.QueryResult | pg.QueryResult[];
    return Array.isArray(res) ? res : [res];
  }

  private async q<R extends pg.QueryResultRow>(name: string, text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    return guardPg(() => this.pool.query<R>({ name, text, values }));
  }

  /** One batch, one round trip: `trellis_commit` as a prepared statement, else the statements. */
  private async apply(
    workerId: string | null,
    runIds: readonly string[],
    ops: readonly RowOp[],
    notify: readonly Notification[],
  ) {
    const doc = batchDocument(ops, notify);
    if (doc !== undefined) {
      // `select from`: a result of no columns, so the driver has no field to describe or parse.
      await this.onCommitter([workerId, textArrayLiteral(runIds), doc]);
      return;
    }
    const statements = [...batchSql(ops), ...notifySql(notify)];
    if (workerId !== null && runIds.length > 0)
      statements.unshift(`select trellis_fence(${literal(workerId)}, array[${runIds.map(literal).join(', ')}]::text[])`);
    await this.onCommitter(statements.join(';\n'));
  }

  async commit(writes: readonly RunWriteOp[]): Promise<void> {
    if (writes.length === 0) return;
    const ops = lowerWrites(writes);
    try {
      await this.apply(null, [], ops, []);
    } catch (err) {
      if (!(await this.alreadyCommitted(ops, err))) throw err;
    }
  }

  /**
   * A commit whose connection dropped before the answer came back may have committed; the
   * caller sees STORE_UNAVAILABLE and retries. The retry then collides with its own rows
   * (unique violation). When every event of the batch is already stored, identical (events
   * are immutable, and a batch commits whole), the batch landed the first time: the retry
   * succeeds without writing anything twice. A batch with no events is checked by its
   * attempt keys.
   */
  private async alreadyCommitted(ops: readonly RowOp[], err: unknown): Promise<boolean> {
    if (!(err instanceof pgModule().DatabaseError) || err.code !== UNIQUE_VIOLATION) return false;
    const events = ops.flatMap((o) => (o.op === 'event' ? [o.row] : []));
    const attempts = ops.flatMap((o) => (o.op === 'attempt.insert' ? [o.row] : []));
    if (events.length > 0) {
      const values = events.map((e) => `(${EVENT_COLUMNS.map((c) => literal(e[c])).join(', ')})`).join(', ');
      const [res] = await this.multi([
        `select count(*) as n from events e join (values ${values}) as v(${EVENT_COLUMNS.join(', ')})
         on e.run_id = v.run_id and e.seq = v.seq and e.type = v.type and e.at = v.at and e.data = v.data
           and e.node_id is not distinct from v.node_id`,
      ]);
      return Number(res?.rows[0]?.n) === events.length;
    }
    if (attempts.length > 0) {
      const keys = attempts.map((a) => `(${literal(a.run_id)}, ${literal(a.node_id)}, ${literal(a.attempt)})`).join(', ');
      const [res] = await this.multi([`select count(*) as n from attempts where (run_id, node_id, attempt) in (${keys})`]);
      return Number(res?.rows[0]?.n) === attempts.length;
    }
    return false;
  }

  async commitFenced(workerId: string, writes: readonly RunWriteOp[], notify: readonly Notification[] = []): Promise<void> {
    if (writes.length === 0 && notify.length === 0) return;
    const runIds = runIdsOf(writes);
    const ops = lowerWrites(writes);
    try {
      await this.apply(workerId, runIds, ops, notify);
    } catch (err) {
      if (err instanceof pgModule().DatabaseError && err.code === FENCE_STATE)
        throw new LeaseLostError(workerId, JSON.parse(err.detail ?? '[]') as string[], err.message, err);
      // The fence passed (this worker still holds the runs), so a colliding retry is its own.
      if (!(await this.alreadyCommitted(ops, err))) throw err;
    }
  }

  async createRun(run: NewRun): Promise<{ runId: string; created: boolean }> {
    const r = newRunRow(run);
    const rest = [
      insertSql('runs', run.retry ? NEW_RUN_COLUMNS : RUN_COLUMNS, [r]),
      ...(run.nodeIds.length
        ? [
            `insert into node_runs (run_id, node_id, status, attempt, cost_usd) select ${literal(r.id)}, n, 'pending', 0, 0 from unnest(array[${run.nodeIds.map(literal).join(', ')}]::text[]) as n`,
          ]
        : []),
      ...(run.retry ? retrySql(r.id, run.retry) : []),
      ...(run.events.length ? [insertSql('events', EVENT_COLUMNS, run.events.map(eventRow))] : []),
    ];
    if (!run.idempotency) {
      await this.multi(rest);
      return { runId: r.id, created: true };
    }
    const { scope, key } = run.idempotency;
    // One round trip: the key is claimed by the batch's first statement; a repeat raises
    // TR002 naming the first run, and the whole batch rolls back.
    const claim = `select trellis_claim_key(${literal(scope)}, ${literal(key)}, ${literal(r.id)}, ${literal(r.created_at)})`;
    try {
      await this.multi([claim, ...rest]);
      return { runId: r.id, created: true };
    } catch (err) {
      if (err instanceof pgModule().DatabaseError && err.code === KEY_USED_STATE && err.detail)
        return { runId: err.detail, created: false };
      throw err;
    }
  }

  /**
   * A run's row with its last event's seq (and what `extra` adds), and its node rows: two named
   * statements, prepared once per connection, on two pooled connections at once. (As one
   * multi-statement text they were parsed and planned at every call: about 0.25 ms of the
   * database's CPU per load. The node rows stay a query of their own so that no run's nodes
   * have to fit in one value.) Under READ COMMITTED each statement sees what had committed when
   * it started, as the statements of one multi-statement text did.
   */
  private async runAndNodes<X extends object>(
    name: string,
    runId: string,
    extra: string,
  ): Promise<{ run: RunsTable & X; lastSeq: number; nodes: NodeRunsTable[] } | undefined> {
    const [runs, nodes] = await Promise.all([
      this.q<RunsTable & X & { trellis_last_seq: number }>(
        name,
        `select r.*, (select coalesce(max(seq), 0) from events where run_id = $1) as trellis_last_seq${extra}
         from runs r where r.id = $1`,
        [runId],
      ),
      this.q<NodeRunsTable>('trellis_run_nodes', 'select * from node_runs where run_id = $1', [runId]),
    ]);
    const row = runs.rows[0];
    if (!row) return undefined;
    const { trellis_last_seq, ...run } = row;
    return { run: run as unknown as RunsTable & X, lastSeq: Number(trellis_last_seq), nodes: nodes.rows };
  }

  async loadRun(runId: string): Promise<LoadedRun | undefined> {
    const got = await this.runAndNodes<{ trellis_losses: { node_id: string; n: number }[] | null }>(
      'trellis_load_run',
      runId,
      `, (select json_agg(l) from (select node_id, count(*) as n from attempts
           where run_id = $1 and lease_lost = 1 group by node_id) l) as trellis_losses`,
    );
    if (!got) return undefined;
    const { trellis_losses, ...run } = got.run;
    return loadedRunFrom(run, got.nodes, got.lastSeq, trellis_losses ?? []);
  }

  async listResumable(): Promise<string[]> {
    const res = await this.q<{ id: string }>(
      'trellis_resumable',
      `select id from runs where status in ('queued', 'running')
       union select distinct run_id from node_runs where status = 'waiting' and decision is not null`,
      [],
    );
    return res.rows.map((r) => r.id);
  }

  async dueGateTimeouts(now: number, limit: number): Promise<{ runId: string; nodeId: string }[]> {
    const res = await this.q<{ runId: string; nodeId: string }>(
      'trellis_due_gates',
      `select run_id as "runId", node_id as "nodeId" from node_runs where status = 'waiting' and wait_until <= $1 limit $2`,
      [iso(now), limit],
    );
    return res.rows;
  }

  async dueRunDeadlines(now: number, limit: number): Promise<string[]> {
    const res = await this.q<{ id: string }>(
      'trellis_due_deadlines',
      `select id from runs where status = 'waiting' and deadline_at <= $1 limit $2`,
      [iso(now), limit],
    );
    return res.rows.map((r) => r.id);
  }

  async recordDecision(runId: string, nodeId: string, decision: GateDecision): Promise<boolean> {
    // Row lock + re-check of `decision is null` under READ COMMITTED: of concurrent decisions,
    // exactly one updates the row, on any number of servers.
    const res = await this.q(
      'trellis_record_decision',
      `update node_runs set decision = $1 where run_id = $2 and node_id = $3 and status = 'waiting' and decision is null`,
      [JSON.stringify(decision), runId, nodeId],
    );
    return res.rowCount === 1;
  }

  async getRunStatus(runId: string): Promise<RunStatus | undefined> {
    const res = await this.q<{ status: string }>('trellis_run_status', 'select status from runs where id = $1', [runId]);
    const status = res.rows[0]?.status;
    return status === undefined ? undefined : runStatusOf(status);
  }

  async readEvents(runId: string, after: number, limit: number): Promise<RunEvent[]> {
    const res = await this.q<EventsTable>(
      'trellis_read_events',
      'select * from events where run_id = $1 and seq > $2 order by seq limit $3',
      [runId, after, limit],
    );
    return res.rows.map(toRunEvent);
  }

  async getRunRecord(runId: string): Promise<RunRecord | undefined> {
    const [got, attempts] = await Promise.all([
      this.runAndNodes<{ trellis_retries: string[] | null }>(
        'trellis_run_record',
        runId,
        `, (select json_agg(x.id order by x.created_at, x.id) from runs x where x.retry_of = $1) as trellis_retries`,
      ),
      this.q<AttemptsTable>('trellis_run_attempts', 'select * from attempts where run_id = $1', [runId]),
    ]);
    if (!got) return undefined;
    const { trellis_retries, ...run } = got.run;
    run.last_seq = got.lastSeq;
    return toRunRecord(run, got.nodes, attempts.rows, trellis_retries ?? []);
  }

  async readPastRun(runId: string): Promise<PastRun | undefined> {
    const id = literal(runId);
    const [runs, nodes] = await this.multi([
      `select * from runs where id = ${id}`,
      `select * from node_runs where run_id = ${id}`,
    ]);
    const run = runs?.rows[0] as RunsTable | undefined;
    if (!run) return undefined;
    return pastRunFrom(run, (nodes?.rows ?? []) as NodeRunsTable[]);
  }

  async listRuns(query: { workflowId?: string; limit: number; cursor?: string }): Promise<RunListPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.workflowId !== undefined) {
      params.push(query.workflowId);
      where.push(`workflow_id = $${params.length}`);
    }
    if (query.cursor !== undefined) {
      const c = decodeCursor(query.cursor);
      if (!c) throw new InvalidCursorError();
      params.push(c[0], c[1]);
      where.push(`(created_at < $${params.length - 1} or (created_at = $${params.length - 1} and id < $${params.length}))`);
    }
    params.push(query.limit + 1);
    const text = `select runs.*, coalesce((select max(seq) from events where events.run_id = runs.id), runs.last_seq) as last_seq
      from runs ${where.length ? `where ${where.join(' and ')}` : ''} order by created_at desc, id desc limit $${params.length}`;
    const res = await guardPg(() => this.pool.query<RunsTable>(text, params));
    const rows = res.rows;
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      runs: page.map(toRunSummary),
      nextCursor: rows.length > query.limit && last ? encodeCursor(last.created_at, last.id) : null,
    };
  }

  async getDefinition(workflowId: string, version: number): Promise<Record<string, unknown> | undefined> {
    const res = await this.q<{ definition: string }>(
      'trellis_definition',
      'select definition from workflow_versions where workflow_id = $1 and version = $2',
      [workflowId, version],
    );
    const text = res.rows[0]?.definition;
    return text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>);
  }

  // ---- leases ---------------------------------------------------------------------------

  async claimRuns(workerId: string, leaseMs: number, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    // The inner select locks candidate rows, skipping rows another claimer holds; the outer
    // update re-checks them under the lock (READ COMMITTED re-evaluation), so a run claimed
    // and committed by another worker meanwhile is not taken twice.
    const res = await this.q<{ id: string }>(
      'trellis_claim_runs',
      `update runs set worker_id = $1, lease_expires_at = ${leaseEnd('$2')}
       where id in (
         select r.id from runs r
         where (r.lease_expires_at is null or r.lease_expires_at <= trellis_iso(now()))
           and (
             r.status in ('queued', 'running')
             or (r.status = 'waiting' and (
               r.cancel_requested = 1
               or r.deadline_at <= trellis_iso(now())
               or exists (
                 select 1 from node_runs n
                 where n.run_id = r.id and n.status = 'waiting'
                   and (n.decision is not null or n.wait_until <= trellis_iso(now()))
               )
             ))
           )
         order by r.created_at, r.id
         limit $3
         for update skip locked
       )
       returning id`,
      [workerId, leaseMs, limit],
    );
    return res.rows.map((r) => r.id);
  }

  async claimQueuedRuns(workerId: string, leaseMs: number, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    // As claimRuns (lock, skip locked, re-check under the lock), over the runs nobody has
    // claimed: a plain scan of the partial index runs_new from its start (migration 0026), which
    // marks the entries of runs claimed since dead as it passes them.
    const res = await this.q<{ id: string }>(
      'trellis_claim_new',
      `update runs set worker_id = $1, lease_expires_at = ${leaseEnd('$2')}
       where id in (
         select r.id from runs r
         where r.status = 'queued' and r.lease_expires_at is null
         order by r.created_at, r.id
         limit $3
         for update skip locked
       )
       returning id`,
      [workerId, leaseMs, limit],
    );
    return res.rows.map((r) => r.id);
  }

  async renewLeases(workerId: string, runIds: readonly string[], leaseMs: number): Promise<string[]> {
    if (runIds.length === 0) return [];
    const res = await this.q<{ id: string }>(
      'trellis_renew_leases',
      `update runs set lease_expires_at = ${leaseEnd('$3')}
       where id = any($2::text[]) and worker_id = $1
       returning id`,
      [workerId, [...runIds], leaseMs],
    );
    const kept = new Set(res.rows.map((r) => r.id));
    return runIds.filter((id) => !kept.has(id));
  }

  async releaseRun(workerId: string, runId: string): Promise<boolean> {
    const res = await this.q(
      'trellis_release_run',
      'update runs set worker_id = null, lease_expires_at = null where id = $1 and worker_id = $2',
      [runId, workerId],
    );
    return res.rowCount === 1;
  }

  async requestCancel(runId: string): Promise<boolean> {
    const [upd] = await this.multi([
      `update runs set cancel_requested = 1 where id = ${literal(runId)} and status not in ('succeeded', 'failed', 'cancelled')`,
      ...notifySql([{ channel: CHANNELS.cancel, payload: runId }]).map(
        // Notify only when the update changed a row: same transaction, so both or neither.
        (s) =>
          `${s} where exists (select 1 from runs where id = ${literal(runId)} and cancel_requested = 1 and status not in ('succeeded', 'failed', 'cancelled'))`,
      ),
    ]);
    return upd?.rowCount === 1;
  }

  async wake(channel: string, payload: string): Promise<void> {
    await this.multi(notifySql([{ channel, payload }]));
  }

  async listen(channels: readonly string[], handler: NotificationHandler): Promise<Subscription> {
    for (const channel of channels) checkNotification({ channel, payload: '' });
    // A runner listens before its first claim: open the commit connection meanwhile, so the
    // first commit does not wait for a connection (and its authentication) inside a lease.
    this.committer().catch(() => {});
    return listenPostgres(this.handle.clientConfig, channels, handler);
  }
}
