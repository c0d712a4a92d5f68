import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createTemplate,
  getTemplate,
  listTemplates,
  openSqlite,
  readTemplateFiles,
  type SqliteHandle,
  upsertBuiltinTemplates,
} from '../src/index.ts';

const handles: SqliteHandle[] = [];
async function open(): Promise<SqliteHandle> {
  const h = await openSqlite(join(mkdtempSync(join(tmpdir(), 'trellis-tpl-')), 'trellis.db'));
  handles.push(h);
  return h;
}
afterEach(async () => {
  for (const h of handles.splice(0)) await h.close();
});

describe('templates', () => {
  it('reads example files, skipping broken and invalid ones with a reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-ex-'));
    writeFileSync(join(dir, 'good.json'), JSON.stringify({ name: 'Good one', description: 'd', nodes: [] }));
    writeFileSync(join(dir, 'invalid.json'), JSON.stringify({ nodes: 'no' }));
    writeFileSync(join(dir, 'broken.json'), '{ not json');
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    const { templates, skipped } = readTemplateFiles(dir, (d) => typeof (d as { name?: unknown }).name === 'string');
    expect(templates).toEqual([{ key: 'good', name: 'Good one', description: 'd', definition: expect.any(Object) }]);
    expect(skipped.map((s) => s.file.split('/').at(-1))).toEqual(['broken.json', 'invalid.json']);
    expect(readTemplateFiles(join(dir, 'missing'), () => true)).toEqual({ templates: [], skipped: [] });
  });

  it('upserts built-ins idempotently and lists them before user templates', async () => {
    const { db } = await open();
    const builtin = { key: 'hello', name: 'Hello', description: null, definition: { name: 'hello' } };
    await upsertBuiltinTemplates(db, [builtin]);
    await upsertBuiltinTemplates(db, [{ ...builtin, description: 'updated' }]);
    const mine = await createTemplate(db, { name: 'Aardvark', definition: { name: 'a' }, createdBy: 'alice' });
    const list = await listTemplates(db);
    expect(list.map((t) => [t.id, t.builtin])).toEqual([
      ['tpl_builtin_hello', true],
      [mine.id, false],
    ]);
    expect(list[0]?.description).toBe('updated');
    expect(await getTemplate(db, mine.id)).toMatchObject({ name: 'Aardvark', createdBy: 'alice', definition: { name: 'a' } });
    expect(await getTemplate(db, 'nope')).toBeUndefined();
  });
});
