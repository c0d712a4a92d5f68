/**
 * Scratch workflows: where the builder's test runs ("test this node", "run up to here") live.
 * Each workflow gets at most one, created on its first test, hidden from every list; each test
 * saves the definition it runs as a new version of it. Its runs are ordinary engine runs, so a
 * test executes exactly as a real run does, but the workflow's own history never sees them.
 * Finished test runs older than the retention are deleted (with the versions no run uses).
 */
import type { Kysely } from 'kysely';
import type { Database } from '../tables.ts';
import { newId, nowIso } from './workflows.ts';

/** Saves `definition` as a new version of `workflowId`'s scratch workflow (created if needed). */
export async function addScratchVersion(
  db: Kysely<Database>,
  workflowId: string,
  definition: unknown,
  by: string,
): Promise<{ scratchId: string; version: number }> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await db.transaction().execute(async (trx) => {
        const now = nowIso();
        const text = JSON.stringify(definition);
        const row = await trx
          .selectFrom('workflows')
          .select(['id', 'latest_version'])
          .where('scratch_of', '=', workflowId)
          .executeTakeFirst();
        if (!row) {
          const source = await trx
            .selectFrom('workflows')
            .select(['name', 'owner'])
            .where('id', '=', workflowId)
            .executeTakeFirst();
          const scratchId = newId('wfs');
          await trx
            .insertInto('workflows')
            .values({
              id: scratchId,
              name: `${source?.name ?? workflowId} (test runs)`,
              description: null,
              owner: source?.owner ?? by,
              latest_version: 1,
              created_at: now,
              updated_at: now,
              deleted_at: null,
              scratch_of: workflowId,
            })
            .execute();
          await trx
            .insertInto('workflow_versions')
            .values({ workflow_id: scratchId, version: 1, definition: text, created_by: by, created_at: now })
            .execute();
          return { scratchId, version: 1 };
        }
        const version = row.latest_version + 1;
        await trx
          .insertInto('workflow_versions')
          .values({ workflow_id: row.id, version, definition: text, created_by: by, created_at: now })
          .execute();
        await trx.updateTable('workflows').set({ latest_version: version, updated_at: now }).where('id', '=', row.id).execute();
        return { scratchId: row.id, version };
      });
    } catch (err) {
      // Two first tests at once: one insert wins the unique scratch_of; the other reads it next time.
      if (attempt >= 2) throw err;
    }
  }
}

/** The workflow a scratch run tests, or undefined when `runId` is not a scratch run. */
export async function scratchRunOwner(db: Kysely<Database>, runId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('runs')
    .innerJoin('workflows', 'workflows.id', 'runs.workflow_id')
    .select('workflows.scratch_of')
    .where('runs.id', '=', runId)
    .executeTakeFirst();
  return row?.scratch_of ?? undefined;
}

/** True when `workflowId` is a scratch workflow (its runs are test runs). */
export async function isScratchWorkflow(db: Kysely<Database>, workflowId: string): Promise<boolean> {
  const row = await db.selectFrom('workflows').select('scratch_of').where('id', '=', workflowId).executeTakeFirst();
  return (row?.scratch_of ?? null) !== null;
}

const FINISHED = ['succeeded', 'failed', 'cancelled'];

/**
 * Deletes finished scratch runs created before `before` (at most `limit` per call), their rows
 * and events, and scratch versions no remaining run uses (the latest one stays). Returns how
 * many runs it deleted.
 */
export async function deleteScratchRuns(db: Kysely<Database>, before: string, limit = 200): Promise<number> {
  const rows = await db
    .selectFrom('runs')
    .innerJoin('workflows', 'workflows.id', 'runs.workflow_id')
    .select('runs.id')
    .where('workflows.scratch_of', 'is not', null)
    .where('runs.created_at', '<', before)
    .where('runs.status', 'in', FINISHED)
    .limit(limit)
    .execute();
  const ids = rows.map((r) => r.id);
  if (ids.length === 0) return 0;
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('events').where('run_id', 'in', ids).execute();
    await trx.deleteFrom('attempts').where('run_id', 'in', ids).execute();
    await trx.deleteFrom('node_runs').where('run_id', 'in', ids).execute();
    await trx.deleteFrom('idempotency_keys').where('run_id', 'in', ids).execute();
    await trx.deleteFrom('runs').where('id', 'in', ids).execute();
    await trx
      .deleteFrom('workflow_versions')
      .where('workflow_id', 'in', trx.selectFrom('workflows').select('id').where('scratch_of', 'is not', null))
      .where((eb) =>
        eb(
          'version',
          '<',
          eb.selectFrom('workflows as w').select('w.latest_version').whereRef('w.id', '=', 'workflow_versions.workflow_id'),
        ),
      )
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('runs as r')
              .select('r.id')
              .whereRef('r.workflow_id', '=', 'workflow_versions.workflow_id')
              .whereRef('r.version', '=', 'workflow_versions.version'),
          ),
        ),
      )
      .execute();
  });
  return ids.length;
}
