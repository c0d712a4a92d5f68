/**
 * `/secrets` over HTTP: who may set, list and delete which secrets; values never come back;
 * the save-time checks of `{{ $secrets.NAME }}` (SECRET_NOT_FOUND, SECRET_NOT_ALLOWED_HERE for
 * a place secrets may not go or a secret scoped to another workflow), identical in validate.
 */
import { formatSecretKey, generateSecretKey, SecretVault, secretKeySource } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startTestServer, type TestServer } from './helpers.ts';

let t: TestServer;
let vault: SecretVault;
const VALUE = 'sk-test-9f8e7d6c5b4a';

beforeAll(async () => {
  t = await startTestServer();
  vault = await SecretVault.open(
    t.handle.db,
    secretKeySource(t.dbPath, { TRELLIS_SECRET_KEY: formatSecretKey(generateSecretKey()) }),
  );
  (t.server.ctx as { secrets: SecretVault }).secrets = vault;
});
afterAll(async () => {
  await t.close();
});

const httpWorkflow = (name: string, headers: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  name,
  nodes: [
    { id: 'call', type: 'tool_call', tool: 'http.request', input: { url: 'https://api.example.com/v1', headers, ...extra } },
  ],
  edges: [],
});

describe('secrets API', () => {
  it('global secrets: administrators set and replace them; nobody reads a value back', async () => {
    const denied = await t.request('PUT', '/api/v1/secrets/API_KEY', { body: { value: VALUE } });
    expect(denied.statusCode).toBe(403);
    const created = await t.request('PUT', '/api/v1/secrets/API_KEY', {
      token: t.tokens.admin,
      body: { value: VALUE, description: 'the weather API' },
    });
    expect(created.statusCode).toBe(201);
    expect(json(created)).toMatchObject({ name: 'API_KEY', scope: 'global', description: 'the weather API', createdBy: 'admin' });
    const replaced = await t.request('PUT', '/api/v1/secrets/API_KEY', { token: t.tokens.admin, body: { value: `${VALUE}-2` } });
    expect(replaced.statusCode).toBe(200);
    const list = await t.request('GET', '/api/v1/secrets');
    expect(json(list).items.map((s: { name: string }) => s.name)).toEqual(['API_KEY']);
    for (const r of [created, replaced, list]) expect(r.body).not.toContain(VALUE);
    expect(await vault.reveal('API_KEY', undefined)).toBe(`${VALUE}-2`);
    expect((await t.request('PUT', '/api/v1/secrets/bad-name', { token: t.tokens.admin, body: { value: 'x' } })).statusCode).toBe(
      400,
    );
    expect((await t.request('PUT', '/api/v1/secrets/EMPTY', { token: t.tokens.admin, body: { value: '' } })).statusCode).toBe(
      400,
    );
  });

  it('workflow secrets: the owner sets them; others neither see nor change them', async () => {
    const wf = json(await t.request('POST', '/api/v1/workflows', { body: httpWorkflow('mine', { A: 'x' }) })).id;
    const own = await t.request('PUT', '/api/v1/secrets/ALICE_TOKEN', { body: { value: VALUE, scope: `workflow:${wf}` } });
    expect(own.statusCode).toBe(201);
    expect(
      (await t.request('PUT', '/api/v1/secrets/BOB_TRY', { token: t.tokens.bob, body: { value: 'v', scope: `workflow:${wf}` } }))
        .statusCode,
    ).toBe(404);
    expect(
      (await t.request('PUT', '/api/v1/secrets/ALICE_TOKEN', { token: t.tokens.bob, body: { value: 'v' } })).statusCode,
    ).toBe(403);
    const bobList = json(await t.request('GET', '/api/v1/secrets', { token: t.tokens.bob })).items.map(
      (s: { name: string }) => s.name,
    );
    expect(bobList).toEqual(['API_KEY']);
    expect((await t.request('DELETE', '/api/v1/secrets/ALICE_TOKEN', { token: t.tokens.bob })).statusCode).toBe(404);
    expect((await t.request('DELETE', '/api/v1/secrets/API_KEY')).statusCode).toBe(403);
    // an editor sees the name (the console offers it) but may not change it
    await t.request('PUT', `/api/v1/workflows/${wf}/permissions`, {
      body: [
        { principal: 'alice', role: 'owner' },
        { principal: 'carol', role: 'editor' },
      ],
    });
    const carol = json(await t.request('GET', '/api/v1/secrets', { token: t.tokens.carol })).items.map(
      (s: { name: string }) => s.name,
    );
    expect(carol).toEqual(['ALICE_TOKEN', 'API_KEY']);
    expect(
      (
        await t.request('PUT', '/api/v1/secrets/ALICE_TOKEN', {
          token: t.tokens.carol,
          body: { value: 'v', scope: `workflow:${wf}` },
        })
      ).statusCode,
    ).toBe(403);

    // Saving: its own secret and global ones are usable; another workflow's is not.
    const ok = await t.request('PUT', `/api/v1/workflows/${wf}`, {
      body: httpWorkflow('mine', { Authorization: 'Bearer {{ $secrets.ALICE_TOKEN }}', 'X-Key': '{{ $secrets.API_KEY }}' }),
    });
    expect(ok.statusCode, ok.body).toBe(200);
    const bobs = await t.request('POST', '/api/v1/workflows', {
      token: t.tokens.bob,
      body: httpWorkflow('bobs', { Authorization: 'Bearer {{ $secrets.ALICE_TOKEN }}' }),
    });
    expect(bobs.statusCode).toBe(422);
    expect(json(bobs).errors).toEqual([
      expect.objectContaining({ code: 'SECRET_NOT_ALLOWED_HERE', path: '/nodes/0/input/headers/Authorization', nodes: ['call'] }),
    ]);
    expect((await t.request('DELETE', '/api/v1/secrets/ALICE_TOKEN')).statusCode).toBe(204);
    expect((await t.request('DELETE', '/api/v1/secrets/ALICE_TOKEN')).statusCode).toBe(404);
  });

  it('saving and validating refuse unknown secrets and secrets in places they may not go, with the same codes', async () => {
    const cases: [unknown, string, string][] = [
      [httpWorkflow('unknown', { A: '{{ $secrets.NOPE }}' }), 'SECRET_NOT_FOUND', '/nodes/0/input/headers/A'],
      [
        httpWorkflow('in-body', { A: 'x' }, { body: { key: '{{ $secrets.API_KEY }}' } }),
        'SECRET_NOT_ALLOWED_HERE',
        '/nodes/0/input/body/key',
      ],
      [
        {
          name: 'in-path',
          nodes: [
            { id: 'call', type: 'tool_call', tool: 'http.request', input: { url: 'https://x.example/{{ $secrets.API_KEY }}' } },
          ],
          edges: [],
        },
        'SECRET_NOT_ALLOWED_HERE',
        '/nodes/0/input/url',
      ],
      [
        { name: 'in-transform', nodes: [{ id: 't', type: 'transform', expression: '$secrets.API_KEY' }], edges: [] },
        'SECRET_NOT_ALLOWED_HERE',
        '/nodes/0/expression',
      ],
    ];
    for (const [body, code, path] of cases) {
      const saved = await t.request('POST', '/api/v1/workflows', { body });
      expect(saved.statusCode, saved.body).toBe(422);
      expect(json(saved).errors).toContainEqual(expect.objectContaining({ code, path }));
      const validated = json(await t.request('POST', '/api/v1/workflows/validate', { body }));
      expect(validated.valid).toBe(false);
      expect(validated.errors).toContainEqual(expect.objectContaining({ code, path }));
    }
  });

  it('without a key the API says how to configure one (503), and listing says unavailable', async () => {
    const bare = await startTestServer();
    try {
      expect(json(await bare.request('GET', '/api/v1/secrets'))).toEqual({ items: [], available: false });
      const put = await bare.request('PUT', '/api/v1/secrets/X', { token: bare.tokens.admin, body: { value: 'v' } });
      expect(put.statusCode).toBe(503);
      expect(json(put).detail).toContain('TRELLIS_SECRET_KEY');
    } finally {
      await bare.close();
    }
  });
});
