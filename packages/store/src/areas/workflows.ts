/**
 * Workflows and their versions. A workflow is a named, owned container; each save of its
 * definition is an immutable version (1, 2, …). Runs name the version they started on, so a
 * PUT never changes what a running or finished run executed. DELETE is soft: the workflow
 * leaves lists and refuses new versions and runs, but its versions and runs stay readable.
 */
import { randomBytes } from 'node:crypto';
import { type Kysely, PostgresAdapter } from 'kysely';
import type { Database, WorkflowsTable } from '../tables.ts';

/** A workflow as the domain sees it (mapped from its row). */
export interface WorkflowInfo {
  id: string;
  name: string;
  description: string | null;
  owner: string;
  latestVersion: number;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
}

/** One saved version of a workflow's definition. */
export interface WorkflowVersionInfo {
  workflowId: string;
  version: number;
  /** The definition document as saved (parsed JSON). */
  definition: unknown;
  createdBy: string;
  createdAt: string;
}

export type WorkflowVersionSummary = Omit<WorkflowVersionInfo, 'definition'>;

export interface NewWorkflow {
  name: string;
  description?: string | null;
  definition: unknown;
  /** The principal creating it; becomes its owner (and gets the `owner` permission). */
  owner: string;
}

export interface WorkflowListQuery {
  /** Whose list: a non-admin sees only workflows they hold a permission on. */
  principal: string;
  isAdmin: boolean;
  limit: number;
  /** Opaque cursor returned by the previous page. */
  cursor?: string | undefined;
  /** Case-insensitive substring of the name or description. */
  q?: string | undefined;
}

export interface WorkflowPage<T = WorkflowInfo> {
  items: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

let lastTime = 0;
let seqInMs = 0;

/**
 * A new id: a prefix, a millisecond timestamp, a per-millisecond counter and randomness, so ids
 * made by this process sort by creation time (stable cursor order) and cannot be guessed.
 */
export function newId(prefix: string): string {
  const now = Date.now();
  if (now === lastTime) seqInMs++;
  else {
    lastTime = now;
    seqInMs = 0;
  }
  const time = now.toString(36).padStart(9, '0');
  const seq = seqInMs.toString(36).padStart(4, '0');
  const bytes = randomBytes(8);
  let rand = '';
  for (const b of bytes) rand += ALPHABET[b % 36];
  return `${prefix}_${time}${seq}${rand}`;
}

/** The current time as ISO-8601 UTC, the format of every time column. */
export function nowIso(): string {
  return new Date().toISOString();
}

/** Encodes a keyset cursor (created_at, id); opaque to clients. */
export function encodeCursor(createdAt: string, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id]), 'utf8').toString('base64url');
}

/** Decodes a cursor; undefined when it is malformed (callers answer 400). */
export function decodeCursor(cursor: string): { createdAt: string; id: string } | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string')
      return { createdAt: v[0], id: v[1] };
  } catch {
    // fall through: malformed
  }
  return undefined;
}

function toInfo(row: WorkflowsTable): WorkflowInfo {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    owner: row.owner,
    latestVersion: row.latest_version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
  };
}

function nameOf(definition: unknown, fallback: string): string {
  if (definition && typeof definition === 'object' && 'name' in definition && typeof definition.name === 'string')
    return definition.name;
  return fallback;
}

function descriptionOf(definition: unknown, fallback: string | null): string | null {
  if (definition && typeof definition === 'object' && 'description' in definition && typeof definition.description === 'string')
    return definition.description;
  return fallback;
}

/** Creates a workflow at version 1; its creator becomes its owner. */
export async function createWorkflow(db: Kysely<Database>, input: NewWorkflow): Promise<{ id: string; version: 1 }> {
  const id = newId('wf');
  const now = nowIso();
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('workflows')
      .values({
        id,
        name: input.name,
        description: input.description ?? null,
        owner: input.owner,
        latest_version: 1,
        created_at: now,
        updated_at: now,
        deleted_at: null,
      })
      .execute();
    await trx
      .insertInto('workflow_versions')
      .values({
        workflow_id: id,
        version: 1,
        definition: JSON.stringify(input.definition),
        created_by: input.owner,
        created_at: now,
      })
      .execute();
    await trx.insertInto('permissions').values({ workflow_id: id, principal: input.owner, role: 'owner' }).execute();
  });
  return { id, version: 1 };
}

/**
 * Saves a new version (latest + 1) and returns its number; undefined when the workflow does
 * not exist or was deleted. Name and description follow the new definition.
 */
export async function addVersion(db: Kysely<Database>, id: string, definition: unknown, by: string): Promise<number | undefined> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('workflows').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row || row.deleted_at !== null) return undefined;
    const version = row.latest_version + 1;
    const now = nowIso();
    await trx
      .insertInto('workflow_versions')
      .values({ workflow_id: id, version, definition: JSON.stringify(definition), created_by: by, created_at: now })
      .execute();
    await trx
      .updateTable('workflows')
      .set({
        latest_version: version,
        updated_at: now,
        name: nameOf(definition, row.name),
        description: descriptionOf(definition, row.description),
      })
      .where('id', '=', id)
      .execute();
    return version;
  });
}

/** A workflow by id, deleted ones included (their runs stay readable); undefined if unknown. */
export async function getWorkflow(db: Kysely<Database>, id: string): Promise<WorkflowInfo | undefined> {
  const row = await db.selectFrom('workflows').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toInfo(row) : undefined;
}

/** One version with its parsed definition; undefined if either is unknown. */
export async function getVersion(db: Kysely<Database>, id: string, version: number): Promise<WorkflowVersionInfo | undefined> {
  const row = await db
    .selectFrom('workflow_versions')
    .selectAll()
    .where('workflow_id', '=', id)
    .where('version', '=', version)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    workflowId: row.workflow_id,
    version: row.version,
    definition: JSON.parse(row.definition) as unknown,
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
}

/** Every version of a workflow, newest first, without definitions. */
export async function listVersions(db: Kysely<Database>, id: string): Promise<WorkflowVersionSummary[]> {
  const rows = await db
    .selectFrom('workflow_versions')
    .select(['workflow_id', 'version', 'created_by', 'created_at'])
    .where('workflow_id', '=', id)
    .orderBy('version', 'desc')
    .execute();
  return rows.map((r) => ({ workflowId: r.workflow_id, version: r.version, createdBy: r.created_by, createdAt: r.created_at }));
}

/**
 * The workflows a principal may see (any permission; admins see all), newest first, with
 * keyset pagination on (created_at, id) so pages stay stable while workflows are added.
 */
export async function listWorkflows(db: Kysely<Database>, query: WorkflowListQuery): Promise<WorkflowPage> {
  let q = db.selectFrom('workflows').selectAll().where('deleted_at', 'is', null).where('scratch_of', 'is', null);
  if (!query.isAdmin) {
    q = q.where('id', 'in', db.selectFrom('permissions').select('workflow_id').where('principal', '=', query.principal));
  }
  if (query.q) {
    // instr() rather than LIKE: the user's text is matched literally, with no wildcard escaping.
    // PostgreSQL spells it strpos(), with the same arguments and result.
    const needle = query.q.toLowerCase();
    const find = db.getExecutor().adapter instanceof PostgresAdapter ? 'strpos' : 'instr';
    q = q.where((eb) =>
      eb.or([
        eb(eb.fn(find, [eb.fn('lower', ['name']), eb.val(needle)]), '>', 0),
        eb(eb.fn(find, [eb.fn('lower', ['description']), eb.val(needle)]), '>', 0),
      ]),
    );
  }
  if (query.cursor) {
    const c = decodeCursor(query.cursor);
    if (c) {
      q = q.where((eb) =>
        eb.or([eb('created_at', '<', c.createdAt), eb.and([eb('created_at', '=', c.createdAt), eb('id', '<', c.id)])]),
      );
    }
  }
  const rows = await q
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .execute();
  const items = rows.slice(0, query.limit).map(toInfo);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > query.limit && last ? encodeCursor(last.createdAt, last.id) : null };
}

/** Marks a workflow deleted; false when it does not exist or was already deleted. */
export async function softDelete(db: Kysely<Database>, id: string): Promise<boolean> {
  const now = nowIso();
  const res = await db
    .updateTable('workflows')
    .set({ deleted_at: now, updated_at: now })
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/** The newest run of each of `workflowIds` (one query), for workflow lists. */
export async function lastRunsOf(
  db: Kysely<Database>,
  workflowIds: readonly string[],
): Promise<Map<string, { id: string; status: string; createdAt: string }>> {
  const out = new Map<string, { id: string; status: string; createdAt: string }>();
  if (workflowIds.length === 0) return out;
  const rows = await db
    .selectFrom('runs as r')
    .select(['r.workflow_id', 'r.id', 'r.status', 'r.created_at'])
    .where('r.workflow_id', 'in', [...workflowIds])
    .where((eb) =>
      eb(
        'r.created_at',
        '=',
        eb
          .selectFrom('runs as r2')
          .select((e) => e.fn.max('r2.created_at').as('m'))
          .whereRef('r2.workflow_id', '=', 'r.workflow_id'),
      ),
    )
    .execute();
  for (const r of rows) {
    const prev = out.get(r.workflow_id);
    // Two runs created in the same millisecond: keep the greater id, as the runs list orders them.
    if (!prev || r.id > prev.id) out.set(r.workflow_id, { id: r.id, status: r.status, createdAt: r.created_at });
  }
  return out;
}
