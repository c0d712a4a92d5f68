import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createWorkflow,
  getRole,
  grant,
  listPermissions,
  openSqlite,
  roleAtLeast,
  type SqliteHandle,
  setPermissions,
} from '../src/index.ts';

const handles: SqliteHandle[] = [];
async function open(): Promise<SqliteHandle> {
  const h = await openSqlite(join(mkdtempSync(join(tmpdir(), 'trellis-perm-')), 'trellis.db'));
  handles.push(h);
  return h;
}
afterEach(async () => {
  for (const h of handles.splice(0)) await h.close();
});

const def = { name: 'p', nodes: [{ id: 'a', type: 'transform', expression: '1' }] };

describe('permissions', () => {
  it('orders roles viewer < runner < editor < owner and denies by default', () => {
    expect(roleAtLeast('owner', 'editor')).toBe(true);
    expect(roleAtLeast('runner', 'runner')).toBe(true);
    expect(roleAtLeast('viewer', 'runner')).toBe(false);
    expect(roleAtLeast(undefined, 'viewer')).toBe(false);
  });

  it('the creator is owner; grants and replacement work and keep an owner', async () => {
    const { db } = await open();
    const { id } = await createWorkflow(db, { name: 'p', definition: def, owner: 'alice' });
    expect(await getRole(db, id, 'alice')).toBe('owner');
    expect(await getRole(db, id, 'bob')).toBeUndefined();
    await grant(db, id, 'bob', 'runner');
    expect(await getRole(db, id, 'bob')).toBe('runner');
    await grant(db, id, 'bob', 'editor');
    expect(await listPermissions(db, id)).toEqual([
      { principal: 'alice', role: 'owner' },
      { principal: 'bob', role: 'editor' },
    ]);
    expect(await setPermissions(db, id, [{ principal: 'bob', role: 'viewer' }])).toEqual({
      ok: false,
      message: 'a workflow needs at least one owner',
    });
    expect(
      await setPermissions(db, id, [
        { principal: 'x', role: 'owner' },
        { principal: 'x', role: 'viewer' },
      ]),
    ).toMatchObject({ ok: false });
    expect(await listPermissions(db, id)).toHaveLength(2);
    expect(
      await setPermissions(db, id, [
        { principal: 'carol', role: 'owner' },
        { principal: 'dave', role: 'viewer' },
      ]),
    ).toEqual({ ok: true });
    expect(await getRole(db, id, 'alice')).toBeUndefined();
    expect(await getRole(db, id, 'carol')).toBe('owner');
  });
});
