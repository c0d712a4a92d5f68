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
