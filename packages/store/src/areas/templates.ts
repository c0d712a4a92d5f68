/**
 * Templates: reusable workflow definitions. Users make them from a workflow; built-in ones are
 * the shipped examples (`examples/*.json` that validate), upserted at start-up under stable ids
 * (`tpl_builtin_<file name>`) so restarts neither duplicate nor lose them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Database, TemplatesTable } from '../tables.ts';
import { newId, nowIso } from './workflows.ts';

export interface TemplateInfo {
  id: string;
  name: string;
  description: string | null;
  definition: unknown;
  builtin: boolean;
  createdBy: string | null;
  createdAt: string;
}

export interface NewTemplate {
  name: string;
  description?: string | null;
  definition: unknown;
  createdBy: string;
}

/** A built-in template read from a file. */
export interface BuiltinTemplate {
  /** Stable key (the file name without `.json`). */
  key: string;
  name: string;
  description: string | null;
  definition: unknown;
}

function toInfo(row: TemplatesTable): TemplateInfo {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    definition: JSON.parse(row.definition) as unknown,
    builtin: row.builtin === 1,
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
}

export async function createTemplate(db: Kysely<Database>, input: NewTemplate): Promise<TemplateInfo> {
  const row: TemplatesTable = {
    id: newId('tpl'),
    name: input.name,
    description: input.description ?? null,
    definition: JSON.stringify(input.definition),
    builtin: 0,
    created_by: input.createdBy,
    created_at: nowIso(),
  };
  await db.insertInto('templates').values(row).execute();
  return toInfo(row);
}

export async function getTemplate(db: Kysely<Database>, id: string): Promise<TemplateInfo | undefined> {
  const row = await db.selectFrom('templates').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toInfo(row) : undefined;
}

/** Deletes a template; false when there is none with that id. */
export async function deleteTemplate(db: Kysely<Database>, id: string): Promise<boolean> {
  const res = await db.deleteFrom('templates').where('id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/** Every template, built-in ones first, then by name. */
export async function listTemplates(db: Kysely<Database>): Promise<TemplateInfo[]> {
  const rows = await db.selectFrom('templates').selectAll().orderBy('builtin', 'desc').orderBy('name').orderBy('id').execute();
  return rows.map(toInfo);
}

/** Inserts or refreshes built-in templates under their stable ids; returns how many were written. */
export async function upsertBuiltinTemplates(db: Kysely<Database>, templates: readonly BuiltinTemplate[]): Promise<number> {
  const now = nowIso();
  for (const t of templates) {
    const definition = JSON.stringify(t.definition);
    await db
      .insertInto('templates')
      .values({
        id: `tpl_builtin_${t.key}`,
        name: t.name,
        description: t.description,
        definition,
        builtin: 1,
        created_by: null,
        created_at: now,
      })
      .onConflict((oc) => oc.column('id').doUpdateSet({ name: t.name, description: t.description, definition }))
      .execute();
  }
  return templates.length;
}

/**
 * Reads `*.json` workflow definitions from a folder and keeps those `isValid` accepts.
 * Unreadable or invalid files are reported in `skipped` (with why), never thrown: one broken
 * example must not stop the server from starting.
 */
export function readTemplateFiles(
  dir: string,
  isValid: (definition: unknown) => boolean,
): { templates: BuiltinTemplate[]; skipped: { file: string; reason: string }[] } {
  const templates: BuiltinTemplate[] = [];
  const skipped: { file: string; reason: string }[] = [];
  let names: string[];
  try {
    names = readdirSync(dir)
      // `<name>.input.json` beside a definition is its example input, not a workflow.
      .filter((n) => n.endsWith('.json') && !n.endsWith('.input.json'))
      .sort();
  } catch {
    return { templates, skipped };
  }
  for (const name of names) {
    const file = join(dir, name);
    let definition: unknown;
    try {
      definition = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      skipped.push({ file, reason: err instanceof Error ? err.message : String(err) });
      continue;
    }
    if (!isValid(definition)) {
      skipped.push({ file, reason: 'the definition does not validate' });
      continue;
    }
    const d = definition as { name?: unknown; description?: unknown };
    const key = basename(name, '.json').replace(/[^A-Za-z0-9_-]/g, '_');
    templates.push({
      key,
      name: typeof d.name === 'string' ? d.name : key,
      description: typeof d.description === 'string' ? d.description : null,
      definition,
    });
  }
  return { templates, skipped };
}
