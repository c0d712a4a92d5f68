import { createSignInCode } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startTestServer, type TestServer } from './helpers.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

describe('tokens API', () => {
  it('tells the caller who they are', async () => {
    expect(json(await t.request('GET', '/api/v1/me'))).toMatchObject({ name: 'alice', isAdmin: false });
    expect(json(await t.request('GET', '/api/v1/me', { token: t.tokens.admin }))).toMatchObject({ name: 'admin', isAdmin: true });
  });

  it('makes a token shown once, which works, is listed without its secret, and stops working when revoked', async () => {
    const res = await t.request('POST', '/api/v1/tokens', { body: { name: 'ci' } });
    expect(res.statusCode).toBe(201);
    const { token, info } = json(res);
    expect(token).toMatch(/^trls_/);
    expect(info).toMatchObject({ principal: 'alice', name: 'ci', isAdmin: false });
    expect((await t.request('GET', '/api/v1/workflows', { token })).statusCode).toBe(200);
    const list = await t.request('GET', '/api/v1/tokens');
    expect(list.body).not.toContain(token);
    expect(json(list).items.map((x: { id: string }) => x.id)).toContain(info.id);
    expect((await t.request('DELETE', `/api/v1/tokens/${info.id}`, { token: t.tokens.bob })).statusCode).toBe(404);
    expect((await t.request('DELETE', `/api/v1/tokens/${info.id}`)).statusCode).toBe(204);
    expect((await t.request('GET', '/api/v1/workflows', { token })).statusCode).toBe(401);
    expect((await t.request('DELETE', `/api/v1/tokens/${info.id}`)).statusCode).toBe(409);
  });

  it('only administrators mint tokens for others or admin tokens', async () => {
    expect((await t.request('POST', '/api/v1/tokens', { body: { principal: 'bob' } })).statusCode).toBe(403);
    expect((await t.request('POST', '/api/v1/tokens', { body: { admin: true } })).statusCode).toBe(403);
    const made = await t.request('POST', '/api/v1/tokens', { token: t.tokens.admin, body: { principal: 'dave', admin: true } });
    expect(made.statusCode).toBe(201);
    const other = await t.request('GET', '/api/v1/workflows', { token: json(made).token });
    expect(other.statusCode).toBe(200);
    expect(json(await t.request('GET', '/api/v1/tokens', { token: t.tokens.admin })).items.length).toBeGreaterThan(4);
  });
});

describe('console sign-in with a one-time code', () => {
  const signIn = (code: unknown) => t.request('POST', '/api/v1/sign-in', { token: null, body: { code } });

  it('exchanges a code once for a 12-hour session token; a reused code is refused with SIGN_IN_CODE_USED', async () => {
    const { code, expiresAt } = await createSignInCode(t.handle.db, { principal: 'admin', admin: true });
    expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(5 * 60_000);
    // Only the hash is stored.
    const rows = await t.handle.db.selectFrom('sign_in_codes').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(code);
    const first = await signIn(code);
    expect(first.statusCode).toBe(200);
    const { token, info } = json(first);
    expect(info).toMatchObject({ principal: 'admin', isAdmin: true, name: 'console sign-in' });
    expect(Date.parse(info.expiresAt) - Date.now()).toBeGreaterThan(11 * 3_600_000);
    expect(json(await t.request('GET', '/api/v1/me', { token }))).toMatchObject({ name: 'admin', isAdmin: true });
    const again = await signIn(code);
    expect(again.statusCode).toBe(401);
    expect(json(again)).toMatchObject({ code: 'SIGN_IN_CODE_USED', detail: expect.stringMatching(/already used/) });
  });

  it('refuses an expired code (SIGN_IN_CODE_EXPIRED) and one it never issued (SIGN_IN_CODE_INVALID)', async () => {
    const old = await createSignInCode(t.handle.db, {
      principal: 'alice',
      admin: false,
      now: new Date(Date.now() - 6 * 60_000),
    });
    const expired = await signIn(old.code);
    expect(expired.statusCode).toBe(401);
    expect(json(expired)).toMatchObject({ code: 'SIGN_IN_CODE_EXPIRED', detail: expect.stringMatching(/expired/) });
    for (const bogus of ['trsi_AAAAAAAAAAAAAAAAAAAAAAAA', t.tokens.admin, 'nonsense']) {
      const res = await signIn(bogus);
      expect(res.statusCode).toBe(401);
      expect(json(res).code).toBe('SIGN_IN_CODE_INVALID');
    }
    expect((await signIn(42)).statusCode).toBe(400);
  });

  it('lets only one of two simultaneous exchanges of the same code win', async () => {
    const { code } = await createSignInCode(t.handle.db, { principal: 'bob', admin: false });
    const results = await Promise.all([signIn(code), signIn(code), signIn(code)]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 401, 401]);
  });
});
