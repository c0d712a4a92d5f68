/**
 * The runs area on SQLite. The hot path (`commit`) uses prepared statements on the raw
 * better-sqlite3 connection inside one synchronous transaction: no query building, no
 * per-statement parse, no await between statements. Statements are cached by the set of
 * columns they write, so a batch of a thousand node updates prepares nothing new.
 */
import type { GateDecision, RunEvent, RunRecord, RunStatus } from '@trellis/core';
import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteHandle } from '../sqlite.ts';
import type { AttemptsTable, EventsTable, NodeRunsTable, RunsTable } from '../tables.ts';
import { InvalidCursorError } from './errors.ts';
import {
  attemptEndSet,
  attemptRow,
  eventRow,
  iso,
  type LoadedRun,
  loadedRunFrom,
  newRunRow,
  nodeRowSet,
  pastRunFrom,
  RETRY_NODE_COLUMNS,
  type RunWriteOp,
  retryNodeRow,
  reusedRowKeys,
  rowKey,
  runRowSet,
  runStatusOf,
  type StoreOp,
} from './mapping.ts';
import { decodeCursor, encodeCursor, toRunEvent, toRunRecord, toRunSummary } from './record.ts';
import type { NewRetry, NewRun, PastRun, RunListPage, RunStore } from './run-store.ts';

type Stmt = BetterSqlite3.Statement;

/** Rows per multi-row event INSERT (6 parameters each, well under SQLite's parameter limit). */
const EVENT_CHUNK = 64;

export class SqliteRunStore implements RunStore {
  private readonly raw: BetterSqlite3.Database;
  private readonly cache = new Map<string, Stmt>();
  private readonly statements = new Map<string, Stmt>();
  private readonly eventStmts = new Map<number, Stmt>();
  private readonly insertEvent: Stmt;
  private readonly insertAttempt: Stmt;
  private readonly startItem: Stmt;
  private readonly applyBatch: (ops: readonly RunWriteOp[]) => void;
  private readonly createMany: ReturnType<SqliteRunStore['makeCreateMany']>;
  private readonly createOne: ReturnType<SqliteRunStore['makeCreateOne']>;
  private readonly createAll: ReturnType<SqliteRunStore['makeCreateAll']>;

  constructor(handle: Pick<SqliteHandle, 'raw'>) {
    this.raw = handle.raw;
    this.insertEvent = this.raw.prepare('insert into events (run_id, seq, type, node_id, at, data) values (?, ?, ?, ?, ?, ?)');
    this.insertAttempt = this.raw.prepare(
      'insert into attempts (run_id, node_id, attempt, status, started_at, finished_at, error, cost_usd, usage, worker_id, lease_expires_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.startItem = this.raw.prepare(
      `insert into node_runs (run_id, node_id, status, attempt, cost_usd, started_at) values (?, ?, 'running', ?, 0, ?)
       on conflict (run_id, node_id) do update set status = 'running', attempt = excluded.attempt, next_attempt_at = null`,
    );
    this.createMany = this.makeCreateMany();
    this.createOne = this.makeCreateOne();
    this.createAll = this.makeCreateAll();
    this.applyBatch = this.raw.transaction((ops: readonly RunWriteOp[]) => {
      const events: EventsTable[] = [];
      for (const op of ops) {
        if (op.op === 'run.event') events.push(eventRow(op.event));
        else this.applyOp(op);
      }
      this.insertEvents(events);
    });
  }

  /**
   * Applies one operation outside any batch transaction (tests use it to die mid-commit). Domain
   * writes are mapped straight to statement parameters (mapping.ts), without row objects.
   */
  applyOp(op: StoreOp): void {
    switch (op.op) {
      case 'node.patch':
        this.update('node_runs', nodeRowSet(op.patch), 'run_id = ? and node_id = ?', [op.runId, rowKey(op.nodeId, op.item)]);
        return;
      case 'run.patch':
        this.update('runs', runRowSet(op.patch), 'id = ?', [op.runId]);
        return;
      case 'run.event':
        this.applyOp({ op: 'event', row: eventRow(op.event) });
        return;
      case 'attempt.start': {
        if (op.item !== undefined)
          this.startItem.run(op.runId, rowKey(op.nodeId, op.item), op.attempt, new Date(op.at).toISOString());
        this.applyOp({ op: 'attempt.insert', row: attemptRow(op) });
        if (op.end?.leaseLost)
          this.update('attempts', { lease_lost: 1 }, 'run_id = ? and node_id = ? and attempt = ?', [
            op.runId,
            rowKey(op.nodeId, op.item),
            op.attempt,
          ]);
        return;
      }
      case 'attempt.end': {
        const set = attemptEndSet(op.end);
        if (op.end.leaseLost) set.lease_lost = 1;
        this.update('attempts', set, 'run_id = ? and node_id = ? and attempt = ?', [
          op.runId,
          rowKey(op.nodeId, op.item),
          op.attempt,
        ]);
        return;
      }
      case 'event': {
        const e = op.row;
        this.insertEvent.run(e.run_id, e.seq, e.type, e.node_id, e.at, e.data);
        return;
      }
      case 'attempt.insert': {
        const a = op.row;
        this.insertAttempt.run(
          a.run_id,
          a.node_id,
          a.attempt,
          a.status,
          a.started_at,
          a.finished_at,
          a.error,
          a.cost_usd,
          a.usage,
          a.worker_id,
          a.lease_expires_at,
        );
        return;
      }
      case 'attempt.update':
        this.update('attempts', op.set, 'run_id = ? and node_id = ? and attempt = ?', [op.runId, op.nodeId, op.attempt]);
        return;
      case 'node':
        this.update('node_runs', op.set, 'run_id = ? and node_id = ?', [op.runId, op.nodeId]);
        return;
      case 'item.start':
        this.startItem.run(op.runId, op.nodeId, op.attempt, op.at);
        return;
      case 'run':
        this.update('runs', op.set, 'id = ?', [op.runId]);
        return;
      default: {
        const never: never = op;
        throw new Error(`unknown write op ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * A prepared statement for a fixed SQL text, prepared once (preparing costs more than running
   * most of these). A text is always used the same way (plucked or not), so sharing is safe.
   */
  private statement(sql: string): Stmt {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.raw.prepare(sql);
      if (this.statements.size >= 256) this.statements.delete(this.statements.keys().next().value as string);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  private update(table: string, set: object, where: string, keys: unknown[]): void {
    let sig = table;
    const params: unknown[] = [];
    for (const [col, value] of Object.entries(set)) {
      sig += `,${col}`;
      params.push(value);
    }
    if (params.length === 0) return;
    let stmt = this.cache.get(sig);
    if (!stmt) {
      // Column names come from our own typed row patches, never from user input.
      const cols = sig.split(',').slice(1);
      stmt = this.raw.prepare(`update ${table} set ${cols.map((c) => `${c} = ?`).join(', ')} where ${where}`);
      this.cache.set(sig, stmt);
    }
    for (const k of keys) params.push(k);
    stmt.run(params);
  }

  /** Inserts events with multi-row statements (one native call per chunk instead of per row). */
  private insertEvents(rows: EventsTable[]): void {
    for (let i = 0; i < rows.length; i += EVENT_CHUNK) {
      const chunk = rows.slice(i, i + EVENT_CHUNK);
      let stmt = this.eventStmts.get(chunk.length);
      if (!stmt) {
        stmt = this.raw.prepare(
          `insert into events (run_id, seq, type, node_id, at, data) values ${Array(chunk.length).fill('(?, ?, ?, ?, ?, ?)').join(', ')}`,
        );
        this.eventStmts.set(chunk.length, stmt);
      }
      const params: unknown[] = [];
      for (const e of chunk) params.push(e.run_id, e.seq, e.type, e.node_id, e.at, e.data);
      stmt.run(params);
    }
  }

  async commit(ops: readonly RunWriteOp[]): Promise<void> {
    if (ops.length > 0) this.applyBatch(ops);
  }

  /**
   * Creates a run durably (resolves once committed). Runs created in the same turn of the event
   * loop (a schedule pass, a burst of webhook deliveries or API calls) share one transaction — one
   * commit instead of one each — while each run keeps its own savepoint, so one that fails (its
   * error goes to its own caller) leaves the others created.
   */
  createRun(run: NewRun): Promise<{ runId: string; created: boolean }> {
    return new Promise((resolve, reject) => {
      this.pendingCreates.push({ run, resolve, reject });
      if (this.pendingCreates.length === 1) setImmediate(this.flushCreates);
    });
  }

  private readonly pendingCreates: {
    run: NewRun;
    resolve: (r: { runId: string; created: boolean }) => void;
    reject: (err: unknown) => void;
  }[] = [];

  private readonly flushCreates = (): void => {
    const batch = this.pendingCreates.splice(0);
    const results: ({ ok: true; value: { runId: string; created: boolean } } | { ok: false; error: unknown })[] = [];
    try {
      // Fast path: one transaction, no savepoints. If any run fails, it is all rolled back and
      // done again with a savepoint per run, so the others are still created.
      this.createAll.immediate(batch, results);
    } catch {
      results.length = 0;
      try {
        this.createMany.immediate(batch, results);
      } catch (error) {
        // The transaction itself failed (busy, disk full): every run of the batch fails with it.
        for (const p of batch) p.reject(error);
        return;
      }
    }
    for (let i = 0; i < batch.length; i++) {
      const r = results[i];
      if (r?.ok) batch[i]?.resolve(r.value);
      else batch[i]?.reject(r?.error);
    }
  };

  private makeCreateMany() {
    return this.raw.transaction(
      (
        batch: readonly { run: NewRun }[],
        results: ({ ok: true; value: { runId: string; created: boolean } } | { ok: false; error: unknown })[],
      ) => {
        for (const { run } of batch) {
          try {
            results.push({ ok: true, value: this.createOne(run) });
          } catch (error) {
            results.push({ ok: false, error });
          }
        }
      },
    );
  }

  /** One run's rows, in a savepoint of the batch's transaction (rolled back alone if it fails). */
  private makeCreateOne() {
    return this.raw.transaction((run: NewRun): { runId: string; created: boolean } => this.createRows(run));
  }

  /** Without savepoints: the whole batch in one transaction (the usual case: nothing fails). */
  private makeCreateAll() {
    return this.raw.transaction(
      (
        batch: readonly { run: NewRun }[],
        results: ({ ok: true; value: { runId: string; created: boolean } } | { ok: false; error: unknown })[],
      ) => {
        for (const { run } of batch) results.push({ ok: true, value: this.createRows(run) });
      },
    );
  }

  /** One run's rows (idempotency key, run, nodes, first events). */
  private createRows(run: NewRun): { runId: string; created: boolean } {
    const r = newRunRow(run);
    if (run.idempotency) {
      // Claim the key with one statement; only a key already taken costs a read.
      const claimed = this.statement(
        'insert into idempotency_keys (scope, key, run_id, created_at) values (?, ?, ?, ?) on conflict do nothing',
      ).run(run.idempotency.scope, run.idempotency.key, r.id, r.created_at);
      if (claimed.changes === 0) {
        const existing = this.statement('select run_id from idempotency_keys where scope = ? and key = ?')
          .pluck()
          .get(run.idempotency.scope, run.idempotency.key) as string;
        return { runId: existing, created: false };
      }
    }
    this.statement(
      `insert into runs (id, workflow_id, version, status, input, output, error, cost_usd, created_by, created_at, started_at, finished_at, deadline_at, last_seq, worker_id, lease_expires_at, cancel_requested, retry_of, retry_info, parent_run_id, parent_node_id, depth, trace_parent)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      r.id,
      r.workflow_id,
      r.version,
      r.status,
      r.input,
      r.output,
      r.error,
      r.cost_usd,
      r.created_by,
      r.created_at,
      r.started_at,
      r.finished_at,
      r.deadline_at,
      r.last_seq,
      r.worker_id,
      r.lease_expires_at,
      r.cancel_requested,
      r.retry_of,
      r.retry_info,
      r.parent_run_id,
      r.parent_node_id,
      r.depth,
      r.trace_parent,
    );
    if (run.retry) this.insertRetryRows(r.id, run.retry);
    const insNode = this.statement(
      "insert into node_runs (run_id, node_id, status, attempt, cost_usd) values (?, ?, 'pending', 0, 0)",
    );
    for (const id of run.nodeIds) insNode.run(r.id, id);
    if (run.events.length > 8) this.insertEvents(run.events.map(eventRow));
    else
      for (const e of run.events) {
        const row = eventRow(e);
        this.insertEvent.run(row.run_id, row.seq, row.type, row.node_id, row.at, row.data);
      }
    return { runId: r.id, created: true };
  }

  /** A retry's node rows (multi-row statements) and its reused nodes' attempts, copied in the database. */
  private insertRetryRows(runId: string, retry: NewRetry): void {
    this.insertRows(
      'node_runs',
      RETRY_NODE_COLUMNS,
      retry.nodes.map((n) => retryNodeRow(runId, n)),
    );
    const nodeIds = reusedRowKeys(retry.nodes);
    if (nodeIds.length === 0) return;
    this.statement(
      `insert into attempts (run_id, node_id, attempt, status, started_at, finished_at, error, cost_usd, usage, worker_id, lease_expires_at, reused_from)
         select ?, node_id, attempt, status, started_at, finished_at, error, cost_usd, usage, null, null, coalesce(reused_from, ?)
         from attempts where run_id = ? and node_id in (select value from json_each(?))`,
    ).run(runId, retry.fromRunId, retry.fromRunId, JSON.stringify(nodeIds));
  }

  private insertRows<T extends object>(table: string, cols: readonly (keyof T & string)[], rows: readonly T[]): void {
    for (let i = 0; i < rows.length; i += EVENT_CHUNK) {
      const chunk = rows.slice(i, i + EVENT_CHUNK);
      const key = `${table}:${chunk.length}`;
      let stmt = this.cache.get(key);
      if (!stmt) {
        const row = `(${cols.map(() => '?').join(', ')})`;
        stmt = this.raw.prepare(`insert into ${table} (${cols.join(', ')}) values ${Array(chunk.length).fill(row).join(', ')}`);
        this.cache.set(key, stmt);
      }
      const params: unknown[] = [];
      for (const r of chunk) for (const c of cols) params.push(r[c] ?? null);
      stmt.run(params);
    }
  }

  async readPastRun(runId: string): Promise<PastRun | undefined> {
    const run = this.statement('select * from runs where id = ?').get(runId) as RunsTable | undefined;
    if (!run) return undefined;
    const nodes = this.statement('select * from node_runs where run_id = ?').all(runId) as NodeRunsTable[];
    return pastRunFrom(run, nodes);
  }

  async loadRun(runId: string): Promise<LoadedRun | undefined> {
    const run = this.statement('select * from runs where id = ?').get(runId) as RunsTable | undefined;
    if (!run) return undefined;
    const nodes = this.statement('select * from node_runs where run_id = ?').all(runId) as NodeRunsTable[];
    const losses = this.statement(
      'select node_id, count(*) as n from attempts where run_id = ? and lease_lost = 1 group by node_id',
    ).all(runId) as { node_id: string; n: number }[];
    return loadedRunFrom(run, nodes, this.lastSeq(runId), losses);
  }

  async listResumable(): Promise<string[]> {
    return this.statement(
      `select id from runs where status in ('queued', 'running')
         union select distinct run_id from node_runs where status = 'waiting' and decision is not null`,
    )
      .pluck()
      .all() as string[];
  }

  async dueGateTimeouts(now: number, limit: number): Promise<{ runId: string; nodeId: string }[]> {
    return this.statement(
      "select run_id as runId, node_id as nodeId from node_runs where status = 'waiting' and wait_until <= ? limit ?",
    ).all(iso(now), limit) as { runId: string; nodeId: string }[];
  }

  async dueRunDeadlines(now: number, limit: number): Promise<string[]> {
    return this.statement("select id from runs where status = 'waiting' and deadline_at <= ? limit ?")
      .pluck()
      .all(iso(now), limit) as string[];
  }

  async recordDecision(runId: string, nodeId: string, decision: GateDecision): Promise<boolean> {
    const res = this.statement(
      "update node_runs set decision = ? where run_id = ? and node_id = ? and status = 'waiting' and decision is null",
    ).run(JSON.stringify(decision), runId, nodeId);
    return res.changes === 1;
  }

  async getRunStatus(runId: string): Promise<RunStatus | undefined> {
    const status = this.statement('select status from runs where id = ?').pluck().get(runId) as string | undefined;
    return status === undefined ? undefined : runStatusOf(status);
  }

  async readEvents(runId: string, after: number, limit: number): Promise<RunEvent[]> {
    return this.readEventsSync(runId, after, limit);
  }

  /** Synchronous read, used by the in-process event hub to replay without a gap. */
  readEventsSync(runId: string, after: number, limit: number): RunEvent[] {
    const rows = this.statement('select * from events where run_id = ? and seq > ? order by seq limit ?').all(
      runId,
      after,
      limit,
    ) as EventsTable[];
    return rows.map(toRunEvent);
  }

  private lastSeq(runId: string): number {
    return (this.statement('select max(seq) from events where run_id = ?').pluck().get(runId) as number | null) ?? 0;
  }

  async getRunRecord(runId: string): Promise<RunRecord | undefined> {
    const run = this.statement('select * from runs where id = ?').get(runId) as RunsTable | undefined;
    if (!run) return undefined;
    run.last_seq = this.lastSeq(runId);
    const nodes = this.statement('select * from node_runs where run_id = ?').all(runId) as NodeRunsTable[];
    const attempts = this.statement('select * from attempts where run_id = ?').all(runId) as AttemptsTable[];
    const retries = this.statement('select id from runs where retry_of = ? order by created_at, id')
      .pluck()
      .all(runId) as string[];
    return toRunRecord(run, nodes, attempts, retries);
  }

  async listRuns(query: { workflowId?: string; limit: number; cursor?: string }): Promise<RunListPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.workflowId !== undefined) {
      where.push('workflow_id = ?');
      params.push(query.workflowId);
    }
    if (query.cursor !== undefined) {
      const c = decodeCursor(query.cursor);
      if (!c) throw new InvalidCursorError();
      where.push('(created_at < ? or (created_at = ? and id < ?))');
      params.push(c[0], c[0], c[1]);
    }
    const sql = `select runs.*, (select max(seq) from events where events.run_id = runs.id) as last_seq from runs ${where.length ? `where ${where.join(' and ')}` : ''} order by created_at desc, id desc limit ?`;
    const rows = this.statement(sql).all(...params, query.limit + 1) as RunsTable[];
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      runs: page.map(toRunSummary),
      nextCursor: rows.length > query.limit && last ? encodeCursor(last.created_at, last.id) : null,
    };
  }

  async getDefinition(workflowId: string, version: number): Promise<Record<string, unknown> | undefined> {
    const text = this.statement('select definition from workflow_versions where workflow_id = ? and version = ?')
      .pluck()
      .get(workflowId, version) as string | undefined;
    return text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>);
  }
}
