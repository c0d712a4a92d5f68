import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  addVersion,
  createWorkflow,
  getRole,
  getVersion,
  getWorkflow,
  grant,
  listVersions,
  listWorkflows,
  openSqlite,
  type SqliteHandle,
  softDelete,
} from '../src/index.ts';

const handles: SqliteHandle[] = [];
async function open(): Promise<SqliteHandle> {
  const h = await openSqlite(join(mkdtempSync(join(tmpdir(), 'trellis-wf-')), 'trellis.db'));
  handles.push(h);
  return h;
}
afterEach(async () => {
  for (const h of handles.splice(0)) await h.close();
});

const def = (name: string) => ({ name, nodes: [{ id: 'a', type: 'transform', expression: '1' }], edges: [] });

describe('workflows area', () => {
  it('creates version 1 owned by its creator, and PUT-style saves make n+1', async () => {
    const { db } = await open();
    const { id, version } = await createWorkflow(db, { name: 'one', definition: def('one'), owner: 'alice' });
    expect(version).toBe(1);
    expect(await getRole(db, id, 'alice')).toBe('owner');
    expect(await addVersion(db, id, def('one-renamed'), 'bob')).toBe(2);
    expect(await addVersion(db, id, def('one-renamed'), 'bob')).toBe(3);
    const wf = await getWorkflow(db, id);
    expect(wf).toMatchObject({ id, name: 'one-renamed', owner: 'alice', latestVersion: 3, deletedAt: null });
    expect((await getVersion(db, id, 1))?.definition).toEqual(def('one'));
    expect(await getVersion(db, id, 2)).toMatchObject({ version: 2, createdBy: 'bob', definition: def('one-renamed') });
    expect(await getVersion(db, id, 9)).toBeUndefined();
    expect((await listVersions(db, id)).map((v) => v.version)).toEqual([3, 2, 1]);
  });

  it('soft delete hides from lists and refuses new versions but keeps versions readable', async () => {
    const { db } = await open();
    const { id } = await createWorkflow(db, { name: 'gone', definition: def('gone'), owner: 'alice' });
    expect(await softDelete(db, id)).toBe(true);
    expect(await softDelete(db, id)).toBe(false);
    expect(await addVersion(db, id, def('x'), 'alice')).toBeUndefined();
    expect((await getWorkflow(db, id))?.deletedAt).not.toBeNull();
    expect(await getVersion(db, id, 1)).toBeDefined();
    expect((await listWorkflows(db, { principal: 'alice', isAdmin: false, limit: 10 })).items).toHaveLength(0);
  });

  it('lists only what a principal may see, paginates with a stable cursor and filters by q', async () => {
    const { db } = await open();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++)
      ids.push((await createWorkflow(db, { name: `wf-${i}`, definition: def(`wf-${i}`), owner: 'alice' })).id);
    const bobs = await createWorkflow(db, { name: 'bobs', definition: def('bobs'), owner: 'bob' });
    await grant(db, ids[0]!, 'carol', 'viewer');

    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await listWorkflows(db, { principal: 'alice', isAdmin: false, limit: 3, cursor });
      seen.push(...page.items.map((w) => w.id));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual([...ids].reverse());
    expect((await listWorkflows(db, { principal: 'carol', isAdmin: false, limit: 50 })).items.map((w) => w.id)).toEqual([ids[0]]);
    expect((await listWorkflows(db, { principal: 'root', isAdmin: true, limit: 50 })).items).toHaveLength(8);
    expect((await listWorkflows(db, { principal: 'bob', isAdmin: false, limit: 50 })).items.map((w) => w.id)).toEqual([bobs.id]);
    const q = await listWorkflows(db, { principal: 'alice', isAdmin: false, limit: 50, q: 'WF-3' });
    expect(q.items.map((w) => w.name)).toEqual(['wf-3']);
    const pct = await listWorkflows(db, { principal: 'alice', isAdmin: false, limit: 50, q: '%' });
    expect(pct.items).toHaveLength(0);
  });

  it('concurrent saves get distinct consecutive versions', async () => {
    const { db } = await open();
    const { id } = await createWorkflow(db, { name: 'c', definition: def('c'), owner: 'alice' });
    const versions = await Promise.all(Array.from({ length: 10 }, () => addVersion(db, id, def('c'), 'alice')));
    expect([...versions].sort((a, b) => a! - b!)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });
});
