/**
 * The MCP tool-server registry's rows: a server reached over Streamable HTTP (`url`) or started
 * as a local process over stdio (`command` + `args`), with the tools it listed last time.
 */
import { TrellisError } from '@trellis/core';
import type { Kysely } from 'kysely';
import type { Database, ToolServersTable } from '../tables.ts';
import { newId, nowIso } from './workflows.ts';

export const TOOL_SERVER_TRANSPORTS = ['http', 'stdio'] as const;
export type ToolServerTransport = (typeof TOOL_SERVER_TRANSPORTS)[number];

/**
 * How MCP sessions with a server are scoped: `run`, one session (for stdio, one process) per
 * run, so state a tool keeps cannot reach another run or user; `shared`, one pooled session for
 * every run, for a server its administrator declared stateless.
 */
export const TOOL_SERVER_SESSIONS = ['run', 'shared'] as const;
export type ToolServerSessions = (typeof TOOL_SERVER_SESSIONS)[number];

/** A tool as the server listed it. */
export interface StoredTool {
  name: string;
  description?: string;
  inputSchema: Record<string, unknown>;
}

export interface ToolServerRecord {
  id: string;
  name: string;
  transport: ToolServerTransport;
  url: string | null;
  command: string | null;
  args: string[];
  tools: StoredTool[];
  /** Header templates sent on every request (values may hold `{{ $secrets.NAME }}`, unresolved). */
  headers: Record<string, string>;
  sessions: ToolServerSessions;
  /** A stdio server's environment: name → template (values may hold `{{ $secrets.NAME }}`, unresolved). */
  env: Record<string, string>;
  /** A stdio server's working directory (null: the host's). */
  cwd: string | null;
  createdBy: string;
  createdAt: string;
  refreshedAt: string;
}

export interface NewToolServer {
  name: string;
  transport: ToolServerTransport;
  url?: string | null;
  command?: string | null;
  args?: string[];
  tools: StoredTool[];
  headers?: Record<string, string>;
  sessions?: ToolServerSessions;
  env?: Record<string, string>;
  cwd?: string | null;
  createdBy: string;
}

function toRecord(row: ToolServersTable): ToolServerRecord {
  return {
    id: row.id,
    name: row.name,
    transport: row.transport === 'stdio' ? 'stdio' : 'http',
    url: row.url,
    command: row.command,
    args: row.args ? (JSON.parse(row.args) as string[]) : [],
    tools: JSON.parse(row.tools) as StoredTool[],
    headers: row.headers ? (JSON.parse(row.headers) as Record<string, string>) : {},
    sessions: row.sessions === 'shared' ? 'shared' : 'run',
    env: row.env ? (JSON.parse(row.env) as Record<string, string>) : {},
    cwd: row.cwd ?? null,
    createdBy: row.created_by,
    createdAt: row.created_at,
    refreshedAt: row.refreshed_at,
  };
}

/** Inserts a tool server; a name already taken is a `CONFLICT`. */
export async function insertToolServer(db: Kysely<Database>, input: NewToolServer): Promise<ToolServerRecord> {
  const now = nowIso();
  const row: ToolServersTable = {
    id: newId('tsv'),
    name: input.name,
    transport: input.transport,
    url: input.url ?? null,
    command: input.command ?? null,
    args: input.args ? JSON.stringify(input.args) : null,
    tools: JSON.stringify(input.tools),
    headers: input.headers && Object.keys(input.headers).length > 0 ? JSON.stringify(input.headers) : null,
    sessions: input.sessions ?? 'run',
    env: input.env && Object.keys(input.env).length > 0 ? JSON.stringify(input.env) : null,
    cwd: input.cwd ?? null,
    created_by: input.createdBy,
    created_at: now,
    refreshed_at: now,
  };
  const taken = await db.selectFrom('tool_servers').select('id').where('name', '=', input.name).executeTakeFirst();
  if (taken) {
    throw new TrellisError('CONFLICT', `a tool server named "${input.name}" is already registered; pick another name`, {
      category: 'user',
    });
  }
  await db.insertInto('tool_servers').values(row).execute();
  return toRecord(row);
}

/** Finds a tool server by id, else by name. */
export async function getToolServer(db: Kysely<Database>, idOrName: string): Promise<ToolServerRecord | undefined> {
  const row =
    (await db.selectFrom('tool_servers').selectAll().where('id', '=', idOrName).executeTakeFirst()) ??
    (await db.selectFrom('tool_servers').selectAll().where('name', '=', idOrName).executeTakeFirst());
  return row ? toRecord(row) : undefined;
}

export async function listToolServers(db: Kysely<Database>): Promise<ToolServerRecord[]> {
  const rows = await db.selectFrom('tool_servers').selectAll().orderBy('name').execute();
  return rows.map(toRecord);
}

export async function updateToolServerTools(
  db: Kysely<Database>,
  id: string,
  tools: StoredTool[],
): Promise<ToolServerRecord | undefined> {
  await db
    .updateTable('tool_servers')
    .set({ tools: JSON.stringify(tools), refreshed_at: nowIso() })
    .where('id', '=', id)
    .execute();
  return getToolServer(db, id);
}

export async function deleteToolServer(db: Kysely<Database>, id: string): Promise<boolean> {
  const res = await db.deleteFrom('tool_servers').where('id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}
