import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createToken,
  ensureAdmin,
  generateToken,
  isWellFormedToken,
  listTokens,
  openSqlite,
  revokeToken,
  type SqliteHandle,
  verifyToken,
} from '../src/index.ts';
import { hashToken } from '../src/internal.ts';

const handles: SqliteHandle[] = [];
async function open(): Promise<SqliteHandle> {
  const h = await openSqlite(join(mkdtempSync(join(tmpdir(), 'trellis-auth-')), 'trellis.db'));
  handles.push(h);
  return h;
}
afterEach(async () => {
  for (const h of handles.splice(0)) await h.close();
});

describe('tokens', () => {
  it('have a recognisable prefix and a checksum that catches typos', () => {
    const t = generateToken();
    expect(t).toMatch(/^trls_[0-9A-Za-z]{38}$/);
    expect(isWellFormedToken(t)).toBe(true);
    const last = t.at(-1) === 'a' ? 'b' : 'a';
    expect(isWellFormedToken(t.slice(0, -1) + last)).toBe(false);
    const mid = t[10] === 'x' ? 'y' : 'x';
    expect(isWellFormedToken(t.slice(0, 10) + mid + t.slice(11))).toBe(false);
    expect(isWellFormedToken(t.slice(0, -2))).toBe(false);
    expect(generateToken()).not.toBe(t);
  });

  it('are stored only as SHA-256 and verify to their principal', async () => {
    const h = await open();
    const { token, info } = await createToken(h.db, { principal: 'bob', name: 'laptop' });
    const stored = h.raw.prepare('select token_hash, prefix from api_tokens where id = ?').get(info.id) as {
      token_hash: string;
      prefix: string;
    };
    expect(stored.token_hash).toBe(hashToken(token));
    expect(JSON.stringify(h.raw.prepare('select * from api_tokens').all())).not.toContain(token);
    expect(token.startsWith(stored.prefix)).toBe(true);
    expect(await verifyToken(h.db, token)).toEqual({ name: 'bob', isAdmin: false, tokenId: info.id });
    expect(await verifyToken(h.db, generateToken())).toBeUndefined();
    expect(await verifyToken(h.db, 'short')).toBeUndefined();
    expect((await listTokens(h.db, 'bob')).map((t) => t.name)).toEqual(['laptop']);
  });

  it('can be revoked and can expire', async () => {
    const h = await open();
    const a = await createToken(h.db, { principal: 'bob' });
    expect(await revokeToken(h.db, a.info.id)).toBe(true);
    expect(await revokeToken(h.db, a.info.id)).toBe(false);
    expect(await verifyToken(h.db, a.token)).toBeUndefined();
    const b = await createToken(h.db, { principal: 'bob', expiresAt: '2030-01-01T00:00:00.000Z' });
    expect(await verifyToken(h.db, b.token, new Date('2029-12-31T00:00:00Z'))).toBeDefined();
    expect(await verifyToken(h.db, b.token, new Date('2030-01-01T00:00:01Z'))).toBeUndefined();
  });

  it('refuses an invalid principal name', async () => {
    const h = await open();
    await expect(createToken(h.db, { principal: 'has space' })).rejects.toThrow(/not a valid name/);
  });
});

describe('first-start admin', () => {
  it('generates an admin token once, then never again', async () => {
    const h = await open();
    const first = await ensureAdmin(h.db);
    expect(first.created).toBe(true);
    const token = first.created ? first.token : undefined;
    expect(token && isWellFormedToken(token)).toBe(true);
    expect(await verifyToken(h.db, token!)).toMatchObject({ name: 'admin', isAdmin: true });
    expect(await ensureAdmin(h.db)).toEqual({ created: false });
  });

  it('uses TRELLIS_ADMIN_TOKEN when given, and does not echo it', async () => {
    const h = await open();
    const env = 'my-own-admin-secret-1234';
    expect(await ensureAdmin(h.db, env)).toEqual({ created: true, token: undefined });
    expect(await verifyToken(h.db, env)).toMatchObject({ name: 'admin', isAdmin: true });
    const h2 = await open();
    await expect(ensureAdmin(h2.db, 'short')).rejects.toThrow(/16 to 512 characters/);
  });

  it('refuses a TRELLIS_ADMIN_TOKEN with the trls_ prefix and a bad checksum, at every start', async () => {
    const h = await open();
    const good = generateToken();
    const bad = `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`;
    await expect(ensureAdmin(h.db, bad)).rejects.toThrow(/TRELLIS_ADMIN_TOKEN cannot be used: .*checksum is wrong/);
    await expect(ensureAdmin(h.db, 'trls_only-the-prefix-and-dashes')).rejects.toThrow(/checksum/);
    await expect(ensureAdmin(h.db, 'has space inside the token')).rejects.toThrow(/printable ASCII/);
    expect(await ensureAdmin(h.db, good)).toEqual({ created: true, token: undefined });
    // Once an administrator exists the variable is ignored, but a broken one is still refused.
    await expect(ensureAdmin(h.db, bad)).rejects.toThrow(/checksum/);
    expect(await ensureAdmin(h.db, good)).toEqual({ created: false });
  });

  it('a token with non-ASCII characters is simply not well formed (no exception)', () => {
    const good = generateToken();
    const same = `${good.slice(0, -1)}é`;
    expect(same.length).toBe(good.length);
    expect(isWellFormedToken(same)).toBe(false);
    expect(isWellFormedToken(`${good.slice(0, 10)}ü${good.slice(11)}`)).toBe(false);
  });

  it("an --admin token is an admin token; the principal's other tokens are not, and revoking it ends admin", async () => {
    const h = await open();
    const { token: plain, info: plainInfo } = await createToken(h.db, { principal: 'ops' });
    const { token, info } = await createToken(h.db, { principal: 'ops', admin: true });
    expect(await verifyToken(h.db, token)).toMatchObject({ name: 'ops', isAdmin: true });
    expect(await verifyToken(h.db, plain)).toEqual({ name: 'ops', isAdmin: false, tokenId: plainInfo.id });
    expect(await ensureAdmin(h.db)).toEqual({ created: false });
    await revokeToken(h.db, info.id);
    expect(await verifyToken(h.db, token)).toBeUndefined();
    expect(await verifyToken(h.db, plain)).toMatchObject({ isAdmin: false });
  });
});
