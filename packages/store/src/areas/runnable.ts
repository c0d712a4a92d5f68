/**
 * The workflows a principal may run (role `runner` or above; administrators: every workflow), with
 * their latest definitions — what Trellis offers as MCP tools and A2A skills to that principal.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../tables.ts';
import type { Role } from './permissions.ts';

export interface RunnableWorkflow {
  id: string;
  name: string;
  description: string | null;
  latestVersion: number;
  /** The latest version's definition (parsed JSON). */
  definition: unknown;
}

const RUNNER_ROLES: readonly Role[] = ['runner', 'editor', 'owner'];

/** At most `limit` workflows (default 500), oldest first so names keep their order. */
export async function runnableWorkflows(
  db: Kysely<Database>,
  principal: { name: string; isAdmin: boolean },
  limit = 500,
): Promise<RunnableWorkflow[]> {
  let q = db
    .selectFrom('workflows')
    .innerJoin('workflow_versions', (j) =>
      j
        .onRef('workflow_versions.workflow_id', '=', 'workflows.id')
        .onRef('workflow_versions.version', '=', 'workflows.latest_version'),
    )
    .select([
      'workflows.id as id',
      'workflows.name as name',
      'workflows.description as description',
      'workflows.latest_version as latestVersion',
      'workflow_versions.definition as definition',
    ])
    .where('workflows.deleted_at', 'is', null);
  if (!principal.isAdmin)
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom('permissions')
          .select('permissions.workflow_id')
          .whereRef('permissions.workflow_id', '=', 'workflows.id')
          .where('permissions.principal', '=', principal.name)
          .where('permissions.role', 'in', [...RUNNER_ROLES]),
      ),
    );
  const rows = await q.orderBy('workflows.created_at').orderBy('workflows.id').limit(limit).execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    description: r.description,
    latestVersion: r.latestVersion,
    definition: JSON.parse(r.definition) as unknown,
  }));
}
