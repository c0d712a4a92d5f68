/**
 * Triggers: the schedules and webhooks declared by each workflow's latest version, the runs they
 * started, and the webhook delivery ids seen in the last 24 hours.
 *
 * Exactly once per tick, with any number of processes on one database: the scheduler starts a
 * tick's run with the idempotency key `schedule:<triggerId>:<tick>` (so a second process, or a
 * retry after a crash, gets the same run back), records it, then moves `next_fire_at` on with a
 * conditional update that only the first process wins.
 */
import { nextFireTime, type RunTrigger, type TriggerDefinition, type TriggerType } from '@trellis/core';
import { type Kysely, sql } from 'kysely';
import type { Database, TriggersTable } from '../tables.ts';
import { nowIso } from './workflows.ts';

/** How long a webhook delivery id is remembered: a replay within this window returns the first run. */
export const DELIVERY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** A trigger as stored, for the API and the scheduler. */
export interface TriggerInfo {
  workflowId: string;
  id: string;
  type: TriggerType;
  /** The workflow version that declared it. */
  version: number;
  definition: TriggerDefinition;
  enabled: boolean;
  /** Schedules: the next tick not yet started (ISO); null for webhooks. */
  nextFireAt: string | null;
  lastFiredAt: string | null;
  lastRunId: string | null;
  /** Webhooks: whether a signing secret exists (never the secret itself). */
  hasSecret: boolean;
  secretCreatedAt: string | null;
}

function toInfo(row: TriggersTable): TriggerInfo {
  return {
    workflowId: row.workflow_id,
    id: row.trigger_id,
    type: row.type as TriggerType,
    version: row.version,
    definition: JSON.parse(row.spec) as TriggerDefinition,
    enabled: row.enabled === 1,
    nextFireAt: row.next_fire_at,
    lastFiredAt: row.last_fired_at,
    lastRunId: row.last_run_id,
    hasSecret: row.secret !== null,
    secretCreatedAt: row.secret_created_at,
  };
}

/** What decides a schedule's ticks: a change of any of these recomputes the next tick. */
function scheduleKey(t: TriggerDefinition): string {
  return t.type === 'schedule' ? JSON.stringify([t.cron.trim(), t.timezone ?? 'UTC', t.enabled !== false]) : '';
}

function firstTick(t: TriggerDefinition, now: number): string | null {
  if (t.type !== 'schedule' || t.enabled === false) return null;
  const next = nextFireTime(t.cron, t.timezone, now);
  return next === undefined ? null : new Date(next).toISOString();
}

/**
 * Makes the stored triggers of a workflow those of `version` (its newest): new ones are added
 * (schedules from the next tick after `now`), changed schedules are rescheduled, unchanged ones
 * keep their next tick, removed ones are deleted. A webhook keeps its secret across versions.
 */
export async function syncTriggers(
  db: Kysely<Database>,
  workflowId: string,
  version: number,
  triggers: readonly TriggerDefinition[],
  now: number,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const existing = new Map(
      (await trx.selectFrom('triggers').selectAll().where('workflow_id', '=', workflowId).execute()).map((r) => [
        r.trigger_id,
        r,
      ]),
    );
    const at = new Date(now).toISOString();
    const keep = new Set<string>();
    for (const t of triggers) {
      keep.add(t.id);
      const old = existing.get(t.id);
      const spec = JSON.stringify(t);
      const enabled = t.enabled === false ? 0 : 1;
      if (!old) {
        await trx
          .insertInto('triggers')
          .values({
            workflow_id: workflowId,
            trigger_id: t.id,
            type: t.type,
            version,
            spec,
            enabled,
            next_fire_at: firstTick(t, now),
            last_fired_at: null,
            last_run_id: null,
            secret: null,
            secret_created_at: null,
            created_at: at,
            updated_at: at,
          })
          .execute();
        continue;
      }
      const oldDef = JSON.parse(old.spec) as TriggerDefinition;
      const sameType = oldDef.type === t.type;
      const reschedule = !sameType || scheduleKey(oldDef) !== scheduleKey(t);
      await trx
        .updateTable('triggers')
        .set({
          type: t.type,
          version,
          spec,
          enabled,
          ...(reschedule ? { next_fire_at: firstTick(t, now) } : {}),
          ...(sameType ? {} : { secret: null, secret_created_at: null }),
          updated_at: at,
        })
        .where('workflow_id', '=', workflowId)
        .where('trigger_id', '=', t.id)
        .execute();
    }
    const gone = [...existing.keys()].filter((id) => !keep.has(id));
    if (gone.length > 0)
      await trx.deleteFrom('triggers').where('workflow_id', '=', workflowId).where('trigger_id', 'in', gone).execute();
  });
}

/** Stops every trigger of a workflow (it was deleted). Returns how many there were. */
export async function removeTriggers(db: Kysely<Database>, workflowId: string): Promise<number> {
  const r = await db.deleteFrom('triggers').where('workflow_id', '=', workflowId).executeTakeFirst();
  await db.deleteFrom('webhook_deliveries').where('workflow_id', '=', workflowId).execute();
  return Number(r.numDeletedRows);
}

export async function listTriggers(db: Kysely<Database>, workflowId: string): Promise<TriggerInfo[]> {
  const rows = await db.selectFrom('triggers').selectAll().where('workflow_id', '=', workflowId).orderBy('trigger_id').execute();
  return rows.map(toInfo);
}

/** One trigger with its secret (for signature checks; never returned through the API). */
export async function getTrigger(
  db: Kysely<Database>,
  workflowId: string,
  triggerId: string,
): Promise<(TriggerInfo & { secret: string | null }) | undefined> {
  const row = await db
    .selectFrom('triggers')
    .selectAll()
    .where('workflow_id', '=', workflowId)
    .where('trigger_id', '=', triggerId)
    .executeTakeFirst();
  return row ? { ...toInfo(row), secret: row.secret } : undefined;
}

/** Sets (creates or rotates) a webhook trigger's secret. False when there is no such webhook trigger. */
export async function setTriggerSecret(
  db: Kysely<Database>,
  workflowId: string,
  triggerId: string,
  secret: string,
): Promise<boolean> {
  const at = nowIso();
  const r = await db
    .updateTable('triggers')
    .set({ secret, secret_created_at: at, updated_at: at })
    .where('workflow_id', '=', workflowId)
    .where('trigger_id', '=', triggerId)
    .where('type', '=', 'webhook')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Schedules due at `nowIso` or earlier, earliest first. */
export async function dueSchedules(db: Kysely<Database>, now: string, limit: number): Promise<TriggerInfo[]> {
  const rows = await db
    .selectFrom('triggers')
    .selectAll()
    .where('next_fire_at', 'is not', null)
    .where('next_fire_at', '<=', now)
    .where('enabled', '=', 1)
    .orderBy('next_fire_at')
    .limit(limit)
    .execute();
  return rows.map(toInfo);
}

/** The earliest next tick of any enabled schedule (ISO), or undefined when none is scheduled. */
export async function earliestTick(db: Kysely<Database>): Promise<string | undefined> {
  const row = await db
    .selectFrom('triggers')
    .select((eb) => eb.fn.min('next_fire_at').as('next'))
    .where('next_fire_at', 'is not', null)
    .where('enabled', '=', 1)
    .executeTakeFirst();
  return (row?.next as string | null | undefined) ?? undefined;
}

/** A tick handled by the schedule loop: the run it started (null if it could not) and the next tick. */
export interface CompletedTick {
  workflowId: string;
  id: string;
  tick: string;
  next: string | null;
  runId: string | null;
}

/**
 * Records a batch of handled ticks in one transaction: which run each started, and each schedule
 * moved past its tick, conditionally on `next_fire_at` still being that tick (so of several
 * processes exactly one advances it). Returns how many this call advanced.
 */
export async function completeTicks(db: Kysely<Database>, ticks: readonly CompletedTick[]): Promise<number> {
  if (ticks.length === 0) return 0;
  const at = nowIso();
  return db.transaction().execute(async (trx) => {
    const started = ticks.filter((t) => t.runId !== null);
    for (let i = 0; i < started.length; i += 200)
      // A plain VALUES list: the query builder's row parsing cost more than the insert itself here.
      await sql`insert into trigger_runs (run_id, workflow_id, trigger_id, type, tick, delivery_id, created_at)
        values ${sql.join(
          started
            .slice(i, i + 200)
            .map((t) => sql`(${t.runId}, ${t.workflowId}, ${t.id}, ${'schedule'}, ${t.tick}, ${null}, ${at})`),
        )}
        on conflict (run_id) do nothing`.execute(trx);
    // Every schedule moved on with one statement per chunk (not one per schedule), each row only
    // if its next tick is still the one handled, so of several processes exactly one advances it.
    let advanced = 0;
    for (let i = 0; i < ticks.length; i += 200) {
      const rows = ticks.slice(i, i + 200).map((t) => sql`(${t.workflowId}, ${t.id}, ${t.tick}, ${t.next}, ${t.runId})`);
      const r = await sql`with v (workflow_id, trigger_id, tick, next_tick, run_id) as (values ${sql.join(rows)})
        update triggers set next_fire_at = v.next_tick, last_fired_at = v.tick,
          last_run_id = coalesce(v.run_id, triggers.last_run_id)
        from v
        where triggers.workflow_id = v.workflow_id and triggers.trigger_id = v.trigger_id
          and triggers.next_fire_at = v.tick`.execute(trx);
      advanced += Number(r.numAffectedRows ?? 0n);
    }
    return advanced;
  });
}

/** The row saying which trigger started a run (one shape for schedule ticks and deliveries). */
function triggerRunRow(workflowId: string, runId: string, trigger: RunTrigger, at: string) {
  return {
    run_id: runId,
    workflow_id: workflowId,
    trigger_id: trigger.id,
    type: trigger.type,
    tick: trigger.type === 'schedule' ? trigger.tick : null,
    delivery_id: trigger.type === 'webhook' ? trigger.deliveryId : null,
    created_at: at,
  };
}

/** Records which trigger started a run (idempotent). */
export async function recordTriggerRun(
  db: Kysely<Database>,
  workflowId: string,
  runId: string,
  trigger: RunTrigger,
): Promise<void> {
  await db
    .insertInto('trigger_runs')
    .values(triggerRunRow(workflowId, runId, trigger, nowIso()))
    .onConflict((oc) => oc.column('run_id').doNothing())
    .execute();
  if (trigger.type === 'webhook')
    await db
      .updateTable('triggers')
      .set({ last_run_id: runId, last_fired_at: nowIso() })
      .where('workflow_id', '=', workflowId)
      .where('trigger_id', '=', trigger.id)
      .execute();
}

/** What started each of `runIds` (runs started otherwise are absent). */
export async function triggersOfRuns(db: Kysely<Database>, runIds: readonly string[]): Promise<Map<string, RunTrigger>> {
  const out = new Map<string, RunTrigger>();
  for (let i = 0; i < runIds.length; i += 500) {
    const rows = await db
      .selectFrom('trigger_runs')
      .selectAll()
      .where('run_id', 'in', runIds.slice(i, i + 500))
      .execute();
    for (const r of rows)
      out.set(
        r.run_id,
        r.type === 'schedule'
          ? { id: r.trigger_id, type: 'schedule', tick: r.tick ?? '' }
          : { id: r.trigger_id, type: 'webhook', deliveryId: r.delivery_id },
      );
  }
  return out;
}

/** Active (enabled) triggers per workflow, by type, for workflow lists. */
export async function activeTriggerCounts(
  db: Kysely<Database>,
  workflowIds: readonly string[],
): Promise<Map<string, { schedule: number; webhook: number }>> {
  const out = new Map<string, { schedule: number; webhook: number }>();
  if (workflowIds.length === 0) return out;
  const rows = await db
    .selectFrom('triggers')
    .select(['workflow_id', 'type'])
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workflow_id', 'in', [...workflowIds])
    .where('enabled', '=', 1)
    .groupBy(['workflow_id', 'type'])
    .execute();
  for (const r of rows) {
    const c = out.get(r.workflow_id) ?? { schedule: 0, webhook: 0 };
    if (r.type === 'schedule' || r.type === 'webhook') c[r.type] = Number(r.n);
    out.set(r.workflow_id, c);
  }
  return out;
}

export type DeliveryClaim = { kind: 'new'; receivedAt: string } | { kind: 'replay'; runId: string | null; receivedAt: string };

/**
 * Claims a webhook delivery id. The first claim within the 24-hour window is `new`; later ones are
 * `replay` with the first delivery's run (null while that first delivery is still starting it).
 * A delivery id older than the window is claimed afresh.
 */
export async function claimDelivery(
  db: Kysely<Database>,
  workflowId: string,
  triggerId: string,
  deliveryId: string,
  now: number,
): Promise<DeliveryClaim> {
  const at = new Date(now).toISOString();
  const inserted = await db
    .insertInto('webhook_deliveries')
    .values({ workflow_id: workflowId, trigger_id: triggerId, delivery_id: deliveryId, received_at: at, run_id: null })
    .onConflict((oc) => oc.columns(['workflow_id', 'trigger_id', 'delivery_id']).doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0) return { kind: 'new', receivedAt: at };
  const row = await db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('workflow_id', '=', workflowId)
    .where('trigger_id', '=', triggerId)
    .where('delivery_id', '=', deliveryId)
    .executeTakeFirst();
  if (!row) return claimDelivery(db, workflowId, triggerId, deliveryId, now);
  if (Date.parse(row.received_at) > now - DELIVERY_WINDOW_MS)
    return { kind: 'replay', runId: row.run_id, receivedAt: row.received_at };
  // Older than the window: this delivery id starts afresh (conditional, so one of two racing claims wins).
  const r = await db
    .updateTable('webhook_deliveries')
    .set({ received_at: at, run_id: null })
    .where('workflow_id', '=', workflowId)
    .where('trigger_id', '=', triggerId)
    .where('delivery_id', '=', deliveryId)
    .where('received_at', '=', row.received_at)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0
    ? { kind: 'new', receivedAt: at }
    : claimDelivery(db, workflowId, triggerId, deliveryId, now);
}

export async function setDeliveryRun(
  db: Kysely<Database>,
  workflowId: string,
  triggerId: string,
  deliveryId: string,
  runId: string,
): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set({ run_id: runId })
    .where('workflow_id', '=', workflowId)
    .where('trigger_id', '=', triggerId)
    .where('delivery_id', '=', deliveryId)
    .execute();
}

/** Forgets delivery ids older than the window. */
export async function pruneDeliveries(db: Kysely<Database>, now: number): Promise<number> {
  const r = await db
    .deleteFrom('webhook_deliveries')
    .where('received_at', '<', new Date(now - DELIVERY_WINDOW_MS).toISOString())
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
