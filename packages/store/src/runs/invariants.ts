/**
 * The run invariants: what must hold in the database for every run at every commit, whatever
 * the dialect, the number of workers, crashes or lost leases. Tests of both dialects (and the
 * chaos, property and benchmark code) call `checkRunInvariants` after running workflows; a
 * violation means a batch was lost, reordered or half applied.
 *
 * For every run:
 * - `event_gap`: its event log is gap-free: seqs 1, 2, … n, nothing missing, nothing before 1.
 * - `cost_mismatch`: its cost equals the sum of its attempts' costs (attempts copied from the
 *   run it retries, `reused_from`, are shown but not charged again).
 * For every terminal run (succeeded, failed, cancelled), also:
 * - `node_not_terminal`: every node is terminal (succeeded, failed, skipped, cancelled).
 * - `attempt_running`: no attempt is still `running`.
 * - `terminal_event`: the last event is the run's terminal event (`run.<status>`).
 * - `node_status_mismatch`: each node's status is what its last status event says
 *   (`node.succeeded` → succeeded, …; a node without one is `pending`).
 *
 * Everything is computed by a handful of aggregate queries, so checking thousands of runs of
 * thousands of nodes reads counts and mismatches, not whole logs.
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../tables.ts';

export const INVARIANT_RULES = [
  'event_gap',
  'cost_mismatch',
  'node_not_terminal',
  'attempt_running',
  'terminal_event',
  'node_status_mismatch',
] as const;
export type InvariantRule = (typeof INVARIANT_RULES)[number];

export interface InvariantViolation {
  runId: string;
  rule: InvariantRule;
  nodeId?: string;
  message: string;
}

export interface InvariantReport {
  ok: boolean;
  /** Runs checked, and how many of them were terminal. */
  runs: number;
  terminalRuns: number;
  /** At most `maxViolations` of them (default 100), most useful first: per rule, per run. */
  violations: InvariantViolation[];
}

export interface InvariantOptions {
  /** Only these runs (default: every run in the database). */
  runIds?: readonly string[];
  maxViolations?: number;
}

/** Node event type → the node status it leaves behind. Event types absent here do not change a node's status. */
export const NODE_STATUS_AFTER_EVENT: Readonly<Record<string, string>> = {
  'node.queued': 'queued',
  'node.started': 'running',
  'node.retrying': 'retrying',
  'node.waiting': 'waiting',
  'node.succeeded': 'succeeded',
  'node.failed': 'failed',
  'node.skipped': 'skipped',
  'node.cancelled': 'cancelled',
  'node.reused': 'succeeded',
  'gate.approved': 'running',
  'gate.rejected': 'running',
};

const TERMINAL_RUN = ['succeeded', 'failed', 'cancelled'];
const TERMINAL_NODE = ['succeeded', 'failed', 'skipped', 'cancelled'];
const COST_EPSILON = 1e-9;

const list = (xs: readonly string[]) =>
  sql.join(
    xs.map((x) => sql.lit(x)),
    sql`, `,
  );

/** Checks the invariants over the runs in `db` (both dialects). */
export async function checkRunInvariants(db: Kysely<Database>, options: InvariantOptions = {}): Promise<InvariantReport> {
  const max = options.maxViolations ?? 100;
  const violations: InvariantViolation[] = [];
  const add = (v: InvariantViolation) => {
    if (violations.length < max) violations.push(v);
  };
  const ids = options.runIds;
  if (ids && ids.length === 0) return { ok: true, runs: 0, terminalRuns: 0, violations };
  // Chunk long id lists: one IN list per query stays well under parameter and text limits.
  const chunks: (readonly string[] | undefined)[] = [];
  if (ids) for (let i = 0; i < ids.length; i += 500) chunks.push(ids.slice(i, i + 500));
  else chunks.push(undefined);

  let runs = 0;
  let terminalRuns = 0;
  for (const chunk of chunks) {
    const only = (col: RawBuilder<unknown>) => (chunk ? sql`and ${col} in (${list(chunk)})` : sql``);
    const r = await checkChunk(db, only, add);
    runs += r.runs;
    terminalRuns += r.terminalRuns;
  }
  return { ok: violations.length === 0, runs, terminalRuns, violations };
}

async function checkChunk(
  db: Kysely<Database>,
  only: (col: RawBuilder<unknown>) => RawBuilder<unknown>,
  add: (v: InvariantViolation) => void,
): Promise<{ runs: number; terminalRuns: number }> {
  const terminal = list(TERMINAL_RUN);
  const num = (v: unknown) => Number(v ?? 0);

  // Per run: status, cost, event count / min / max seq, sum of attempt costs.
  const perRun = await sql<{ id: string; status: string; cost: number; n: number; lo: number; hi: number; attempts: number }>`
    select r.id as id, r.status as status, r.cost_usd as cost,
      (select count(*) from events e where e.run_id = r.id) as n,
      (select min(seq) from events e where e.run_id = r.id) as lo,
      (select max(seq) from events e where e.run_id = r.id) as hi,
      (select coalesce(sum(a.cost_usd), 0) from attempts a where a.run_id = r.id and a.reused_from is null) as attempts
    from runs r where 1 = 1 ${only(sql.ref('r.id'))}`.execute(db);
  let terminalRuns = 0;
  for (const row of perRun.rows) {
    const n = num(row.n);
    const lo = num(row.lo);
    const hi = num(row.hi);
    if (TERMINAL_RUN.includes(row.status)) terminalRuns++;
    if (n === 0 || lo !== 1 || hi !== n)
      add({
        runId: row.id,
        rule: 'event_gap',
        message: `event log is not gap-free from 1: ${n} events, seq ${lo}…${hi}`,
      });
    const cost = num(row.cost);
    const sum = num(row.attempts);
    if (Math.abs(cost - sum) > COST_EPSILON * Math.max(1, Math.abs(sum)))
      add({ runId: row.id, rule: 'cost_mismatch', message: `run cost ${cost} ≠ sum of its attempts' costs ${sum}` });
  }

  // Terminal runs: the last event is the run's terminal event.
  const lastEvents = await sql<{ id: string; status: string; type: string | null }>`
    select r.id as id, r.status as status, e.type as type
    from runs r left join events e on e.run_id = r.id and e.seq = (select max(seq) from events m where m.run_id = r.id)
    where r.status in (${terminal}) ${only(sql.ref('r.id'))}`.execute(db);
  for (const row of lastEvents.rows) {
    if (row.type !== `run.${row.status}`)
      add({
        runId: row.id,
        rule: 'terminal_event',
        message: `run is ${row.status} but its last event is ${row.type ?? '(none)'}, not run.${row.status}`,
      });
  }

  // Terminal runs: every node terminal.
  const open = await sql<{ run_id: string; node_id: string; status: string }>`
    select n.run_id as run_id, n.node_id as node_id, n.status as status
    from node_runs n join runs r on r.id = n.run_id
    where r.status in (${terminal}) and n.status not in (${list(TERMINAL_NODE)}) ${only(sql.ref('r.id'))}
    limit 1000`.execute(db);
  for (const row of open.rows)
    add({
      runId: row.run_id,
      nodeId: row.node_id,
      rule: 'node_not_terminal',
      message: `run is terminal but node ${row.node_id} is ${row.status}`,
    });

  // Terminal runs: no attempt still running.
  const running = await sql<{ run_id: string; node_id: string; attempt: number }>`
    select a.run_id as run_id, a.node_id as node_id, a.attempt as attempt
    from attempts a join runs r on r.id = a.run_id
    where r.status in (${terminal}) and a.status = 'running' ${only(sql.ref('r.id'))}
    limit 1000`.execute(db);
  for (const row of running.rows)
    add({
      runId: row.run_id,
      nodeId: row.node_id,
      rule: 'attempt_running',
      message: `run is terminal but attempt ${row.attempt} of node ${row.node_id} is still running`,
    });

  // Terminal runs: each node's status is what its last status event says.
  const mapped = Object.entries(NODE_STATUS_AFTER_EVENT);
  const expected = sql.join(
    mapped.map(([type, status]) => sql`when ${sql.lit(type)} then ${sql.lit(status)}`),
    sql` `,
  );
  const mismatched = await sql<{ run_id: string; node_id: string; status: string; type: string | null }>`
    select n.run_id as run_id, n.node_id as node_id, n.status as status, e.type as type
    from node_runs n
    join runs r on r.id = n.run_id
    left join (
      select run_id, node_id, max(seq) as m from events
      where node_id is not null and type in (${list(mapped.map(([t]) => t))}) ${only(sql.ref('run_id'))}
      group by run_id, node_id
    ) x on x.run_id = n.run_id and x.node_id = n.node_id
    left join events e on e.run_id = x.run_id and e.seq = x.m
    where r.status in (${terminal}) ${only(sql.ref('r.id'))}
      and n.status <> coalesce(case e.type ${expected} end, 'pending')
    limit 1000`.execute(db);
  for (const row of mismatched.rows)
    add({
      runId: row.run_id,
      nodeId: row.node_id,
      rule: 'node_status_mismatch',
      message: `node ${row.node_id} is ${row.status} but its last event is ${row.type ?? '(none)'}`,
    });

  return { runs: perRun.rows.length, terminalRuns };
}

/** The report as text for an assertion message. */
export function formatInvariantReport(report: InvariantReport): string {
  if (report.ok) return `invariants hold for ${report.runs} runs (${report.terminalRuns} terminal)`;
  return [
    `${report.violations.length} invariant violation(s) over ${report.runs} runs:`,
    ...report.violations.map((v) => `  ${v.rule} run ${v.runId}${v.nodeId ? ` node ${v.nodeId}` : ''}: ${v.message}`),
  ].join('\n');
}
