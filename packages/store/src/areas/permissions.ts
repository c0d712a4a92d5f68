/**
 * Per-workflow roles. Deny by default: a principal with no row on a workflow has no access
 * (administrators bypass these checks in the server). Roles are ordered; each includes the
 * rights of those below it:
 *
 * - `viewer`: read the workflow, its versions, runs and events
 * - `runner`: + start runs, cancel them, decide human gates
 * - `editor`: + save new versions
 * - `owner`:  + delete the workflow and change its permissions
 */
import { ROLES, type Role } from '@trellis/core';
import type { Kysely } from 'kysely';
import type { Database } from '../tables.ts';

export { ROLES, type Role };

const RANK: Record<Role, number> = { viewer: 1, runner: 2, editor: 3, owner: 4 };

export interface PermissionEntry {
  principal: string;
  role: Role;
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** True when `role` grants at least `required`. */
export function roleAtLeast(role: Role | undefined, required: Role): boolean {
  return role !== undefined && RANK[role] >= RANK[required];
}

/** The principal's role on a workflow, or undefined (no access). */
export async function getRole(db: Kysely<Database>, workflowId: string, principal: string): Promise<Role | undefined> {
  const row = await db
    .selectFrom('permissions')
    .select('role')
    .where('workflow_id', '=', workflowId)
    .where('principal', '=', principal)
    .executeTakeFirst();
  return row && isRole(row.role) ? row.role : undefined;
}

/** Every permission on a workflow, owners first then by name. */
export async function listPermissions(db: Kysely<Database>, workflowId: string): Promise<PermissionEntry[]> {
  const rows = await db.selectFrom('permissions').select(['principal', 'role']).where('workflow_id', '=', workflowId).execute();
  return rows
    .filter((r): r is PermissionEntry => isRole(r.role))
    .sort((a, b) => RANK[b.role] - RANK[a.role] || a.principal.localeCompare(b.principal));
}

/** Grants (or changes) one principal's role. */
export async function grant(db: Kysely<Database>, workflowId: string, principal: string, role: Role): Promise<void> {
  await db
    .insertInto('permissions')
    .values({ workflow_id: workflowId, principal, role })
    .onConflict((oc) => oc.columns(['workflow_id', 'principal']).doUpdateSet({ role }))
    .execute();
}

/**
 * Replaces a workflow's permissions with `entries`, atomically. Refuses (returns an error
 * message) a list without an owner, or naming a principal twice, so a workflow never ends up
 * orphaned or ambiguous.
 */
export async function setPermissions(
  db: Kysely<Database>,
  workflowId: string,
  entries: readonly PermissionEntry[],
): Promise<{ ok: true } | { ok: false; message: string }> {
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.principal)) return { ok: false, message: `principal '${e.principal}' is listed twice` };
    seen.add(e.principal);
  }
  if (!entries.some((e) => e.role === 'owner')) return { ok: false, message: 'a workflow needs at least one owner' };
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('permissions').where('workflow_id', '=', workflowId).execute();
    await trx
      .insertInto('permissions')
      .values(entries.map((e) => ({ workflow_id: workflowId, principal: e.principal, role: e.role })))
      .execute();
  });
  return { ok: true };
}
