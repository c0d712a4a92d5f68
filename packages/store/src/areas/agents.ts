/**
 * The agent registry's rows: A2A agents registered by URL, with the agent card as fetched and
 * its hash (so a refresh can tell whether the card changed). Names are unique so that a
 * workflow's `agent` field can name an agent instead of carrying an opaque id.
 */
import { TrellisError } from '@trellis/core';
import type { Kysely } from 'kysely';
import type { AgentsTable, Database } from '../tables.ts';
import { newId, nowIso } from './workflows.ts';

export interface AgentRecord {
  id: string;
  name: string;
  url: string;
  /** The agent card as fetched (JSON). */
  card: unknown;
  cardHash: string;
  /** Header templates sent on every request (values may hold `{{ $secrets.NAME }}`, unresolved). */
  headers: Record<string, string>;
  createdBy: string;
  createdAt: string;
  refreshedAt: string;
}

export interface NewAgent {
  name: string;
  url: string;
  card: unknown;
  cardHash: string;
  headers?: Record<string, string>;
  createdBy: string;
}

function toRecord(row: AgentsTable): AgentRecord {
  return {
    id: row.id,
    name: row.name,
    url: row.url,
    card: JSON.parse(row.card) as unknown,
    cardHash: row.card_hash,
    headers: row.headers ? (JSON.parse(row.headers) as Record<string, string>) : {},
    createdBy: row.created_by,
    createdAt: row.created_at,
    refreshedAt: row.refreshed_at,
  };
}

/** Inserts an agent; a name already taken is a `CONFLICT`. */
export async function insertAgent(db: Kysely<Database>, input: NewAgent): Promise<AgentRecord> {
  const now = nowIso();
  const row: AgentsTable = {
    id: newId('agt'),
    name: input.name,
    url: input.url,
    card: JSON.stringify(input.card),
    card_hash: input.cardHash,
    headers: input.headers && Object.keys(input.headers).length > 0 ? JSON.stringify(input.headers) : null,
    created_by: input.createdBy,
    created_at: now,
    refreshed_at: now,
  };
  const taken = await db.selectFrom('agents').select('id').where('name', '=', input.name).executeTakeFirst();
  if (taken)
    throw new TrellisError('CONFLICT', `an agent named "${input.name}" is already registered; pick another name`, {
      category: 'user',
    });
  await db.insertInto('agents').values(row).execute();
  return toRecord(row);
}

/** Finds an agent by id, else by name. */
export async function getAgent(db: Kysely<Database>, idOrName: string): Promise<AgentRecord | undefined> {
  const row =
    (await db.selectFrom('agents').selectAll().where('id', '=', idOrName).executeTakeFirst()) ??
    (await db.selectFrom('agents').selectAll().where('name', '=', idOrName).executeTakeFirst());
  return row ? toRecord(row) : undefined;
}

export async function findAgentByUrl(db: Kysely<Database>, url: string): Promise<AgentRecord | undefined> {
  const row = await db.selectFrom('agents').selectAll().where('url', '=', url).executeTakeFirst();
  return row ? toRecord(row) : undefined;
}

/** Every agent, by name. */
export async function listAgents(db: Kysely<Database>): Promise<AgentRecord[]> {
  const rows = await db.selectFrom('agents').selectAll().orderBy('name').execute();
  return rows.map(toRecord);
}

/** Stores a re-fetched card. Returns the updated record, or undefined if the agent is gone. */
export async function updateAgentCard(
  db: Kysely<Database>,
  id: string,
  card: unknown,
  cardHash: string,
): Promise<AgentRecord | undefined> {
  await db
    .updateTable('agents')
    .set({ card: JSON.stringify(card), card_hash: cardHash, refreshed_at: nowIso() })
    .where('id', '=', id)
    .execute();
  return getAgent(db, id);
}

/** Deletes an agent; true when a row was removed. */
export async function deleteAgent(db: Kysely<Database>, id: string): Promise<boolean> {
  const res = await db.deleteFrom('agents').where('id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}
