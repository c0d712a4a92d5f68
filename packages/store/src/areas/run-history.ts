/**
 * Run history across workflows: the runs of every workflow a principal may see (any permission;
 * administrators: all), newest first, filtered by workflow, status, start time and trigger kind,
 * with keyset pagination on (created_at, id). Scratch runs (the builder's test runs, held by
 * scratch workflows) and runs of no visible workflow are never listed.
 */
import type { RunStatus, RunSummary } from '@trellis/core';
import type { Kysely } from 'kysely';
import { toRunSummary } from '../runs/record.ts';
import type { Database, RunsTable } from '../tables.ts';
import { decodeCursor, encodeCursor } from './workflows.ts';

/** How a run was started: by a person or program through the API (`manual`), or by a trigger. */
export type RunOrigin = 'manual' | 'schedule' | 'webhook';

export interface RunHistoryQuery {
  principal: string;
  isAdmin: boolean;
  /** Only this workflow's runs (the caller checked access to it). */
  workflowId?: string | undefined;
  /** Any of these statuses. */
  status?: readonly RunStatus[] | undefined;
  /** Created at or after / before this ISO time. */
  since?: string | undefined;
  until?: string | undefined;
  origin?: RunOrigin | undefined;
  /** Leave out child runs (started by a workflow node). */
  topLevel?: boolean | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** A run in a history list: the summary, its workflow's name and a short preview of its input. */
export interface RunHistoryItem extends RunSummary {
  workflowName: string;
  /** The input as JSON, cut to `INPUT_PREVIEW_CHARS` (with `…`). */
  inputPreview: string;
}

export const INPUT_PREVIEW_CHARS = 200;

export class InvalidHistoryCursorError extends Error {
  constructor() {
    super('the cursor is not one this server returned; start again without it');
  }
}

export async function listRunHistory(
  db: Kysely<Database>,
  query: RunHistoryQuery,
): Promise<{ items: RunHistoryItem[]; nextCursor: string | null }> {
  let q = db
    .selectFrom('runs')
    .innerJoin('workflows', 'workflows.id', 'runs.workflow_id')
    .selectAll('runs')
    .select('workflows.name as workflow_name')
    .select((eb) =>
      eb.fn
        .coalesce(
          eb
            .selectFrom('events')
            .select((e) => e.fn.max('events.seq').as('m'))
            .whereRef('events.run_id', '=', 'runs.id'),
          'runs.last_seq',
        )
        .as('current_seq'),
    )
    .where('workflows.scratch_of', 'is', null);
  if (!query.isAdmin) {
    q = q.where(
      'runs.workflow_id',
      'in',
      db.selectFrom('permissions').select('permissions.workflow_id').where('permissions.principal', '=', query.principal),
    );
  }
  if (query.workflowId !== undefined) q = q.where('runs.workflow_id', '=', query.workflowId);
  if (query.status !== undefined && query.status.length > 0) q = q.where('runs.status', 'in', [...query.status]);
  if (query.since !== undefined) q = q.where('runs.created_at', '>=', query.since);
  if (query.until !== undefined) q = q.where('runs.created_at', '<', query.until);
  if (query.topLevel) q = q.where('runs.parent_run_id', 'is', null);
  if (query.origin !== undefined) {
    const triggered = db.selectFrom('trigger_runs').select('trigger_runs.run_id');
    q =
      query.origin === 'manual'
        ? q.where('runs.id', 'not in', triggered)
        : q.where('runs.id', 'in', triggered.where('trigger_runs.type', '=', query.origin));
  }
  if (query.cursor !== undefined) {
    const c = decodeCursor(query.cursor);
    if (!c) throw new InvalidHistoryCursorError();
    q = q.where((eb) =>
      eb.or([
        eb('runs.created_at', '<', c.createdAt),
        eb.and([eb('runs.created_at', '=', c.createdAt), eb('runs.id', '<', c.id)]),
      ]),
    );
  }
  const rows = await q
    .orderBy('runs.created_at', 'desc')
    .orderBy('runs.id', 'desc')
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map((r) => {
      const row = r as unknown as RunsTable & { workflow_name: string; current_seq: number | null };
      return {
        ...toRunSummary({ ...row, last_seq: Number(row.current_seq ?? row.last_seq) }),
        workflowName: row.workflow_name,
        inputPreview: preview(row.input),
      };
    }),
    nextCursor: rows.length > query.limit && last ? encodeCursor(last.created_at, last.id) : null,
  };
}

function preview(text: string): string {
  return text.length <= INPUT_PREVIEW_CHARS ? text : `${text.slice(0, INPUT_PREVIEW_CHARS - 1)}…`;
}
