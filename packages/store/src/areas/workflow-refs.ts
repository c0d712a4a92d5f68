/**
 * Resolving `workflow` node references (sub-workflows): a reference is a workflow id or a name.
 * A name resolves to the most recently updated live workflow of that name that the principal can
 * see. Starting a child needs the `runner` role on it for the parent workflow's owner; it is
 * checked when the parent is saved (`lookupWorkflowRef`) and again when the child starts
 * (`createWorkflowResolver`), since permissions can change in between.
 */
import { TrellisError, type WorkflowLookup } from '@trellis/core';
import type { Kysely } from 'kysely';
import type { Database } from '../tables.ts';
import { getRole, roleAtLeast } from './permissions.ts';
import { getVersion } from './workflows.ts';

async function isAdmin(db: Kysely<Database>, principal: string): Promise<boolean> {
  const row = await db.selectFrom('users').select('is_admin').where('name', '=', principal).executeTakeFirst();
  return row?.is_admin === 1;
}

interface Found {
  id: string;
  name: string;
  latestVersion: number;
  canRun: boolean;
}

/** The live workflow a reference names, as `principal` sees it; undefined when none is visible. */
async function find(db: Kysely<Database>, ref: string, principal: string, trusted = false): Promise<Found | undefined> {
  const admin = trusted || (await isAdmin(db, principal));
  const byId = await db
    .selectFrom('workflows')
    .selectAll()
    .where('id', '=', ref)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  const candidates = byId
    ? [byId]
    : await db
        .selectFrom('workflows')
        .selectAll()
        .where('name', '=', ref)
        .where('deleted_at', 'is', null)
        .orderBy('updated_at', 'desc')
        .limit(20)
        .execute();
  for (const w of candidates) {
    const role = admin ? 'owner' : await getRole(db, w.id, principal);
    if (role === undefined) continue;
    return { id: w.id, name: w.name, latestVersion: w.latest_version, canRun: roleAtLeast(role, 'runner') };
  }
  return undefined;
}

/** For the save-time check (`checkWorkflowReferences`): what a reference names, for `owner`. */
export async function lookupWorkflowRef(
  db: Kysely<Database>,
  ref: string,
  version: number | undefined,
  owner: string,
): Promise<WorkflowLookup> {
  const w = await find(db, ref, owner);
  if (!w) return { kind: 'unknown' };
  if (!w.canRun) return { kind: 'forbidden', id: w.id, name: w.name };
  const v = await getVersion(db, w.id, version ?? w.latestVersion);
  if (!v) return { kind: 'unknown' };
  return { kind: 'found', id: w.id, name: w.name, definition: v.definition };
}

/**
 * The engine's run-time resolver: the owner of the parent run's workflow must be able to run the
 * child. `trusted` (for `trellis run`, where the local user owns the whole database file) skips
 * the role check.
 */
export function createWorkflowResolver(db: Kysely<Database>, options: { trusted?: boolean } = {}) {
  return {
    async resolve(
      ref: string,
      version: number | undefined,
      parentWorkflowId: string,
    ): Promise<{ workflowId: string; version: number }> {
      const parent = await db.selectFrom('workflows').select('owner').where('id', '=', parentWorkflowId).executeTakeFirst();
      const owner = parent?.owner ?? '';
      const w = await find(db, ref, owner, options.trusted);
      if (!w)
        throw new TrellisError(
          'WORKFLOW_NOT_FOUND',
          `workflow "${ref}" does not exist (or is not visible to ${owner || 'the owner'})`,
          { category: 'user' },
        );
      if (!w.canRun)
        throw new TrellisError(
          'WORKFLOW_FORBIDDEN',
          `${owner} needs the runner role on workflow "${w.name}" to start it as a child run`,
          {
            category: 'user',
          },
        );
      const v = version ?? w.latestVersion;
      if (version !== undefined && !(await getVersion(db, w.id, version)))
        throw new TrellisError('WORKFLOW_NOT_FOUND', `workflow "${w.name}" has no version ${version}`, { category: 'user' });
      return { workflowId: w.id, version: v };
    },
  };
}
