/**
 * The secrets store, one suite on both dialects (a real SQLite file and a throwaway PostgreSQL):
 * encryption at rest with a fresh nonce per write, metadata-only reads, scopes, the start-up key
 * check, and rotation while another process keeps reading.
 */
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  formatSecretKey,
  generateSecretKey,
  openStore,
  SecretVault,
  type Store,
  secretKeyFileFor,
  secretKeySource,
} from '../../src/index.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';

let server: Promise<TestPostgres> | undefined;
const pgServer = (): Promise<TestPostgres> => {
  server ??= startPostgres();
  return server;
};
afterAll(async () => {
  if (server) await (await server).destroy();
});

const keyA = formatSecretKey(generateSecretKey());
const keyB = formatSecretKey(generateSecretKey());
const PLANT = 'plant-Zq8vX3-never-in-clear';

const DIALECTS = [
  { name: 'sqlite', target: async () => join(mkdtempSync(join(tmpdir(), 'trellis-secrets-')), 'trellis.db') },
  { name: 'postgres', target: async () => (await pgServer()).createDatabase('secrets') },
] as const;

async function dumpText(store: Store): Promise<string> {
  const rows = await store.db.selectFrom('secrets').selectAll().execute();
  const meta = await store.db.selectFrom('trellis_meta').selectAll().execute();
  return JSON.stringify([rows, meta]);
}

for (const d of DIALECTS) {
  describe(`secrets store on ${d.name}`, () => {
    it('stores values encrypted with a fresh nonce per write; reads give metadata only', async () => {
      const target = await d.target();
      const store = await openStore(target);
      try {
        const vault = await SecretVault.open(store.db, secretKeySource(target, { TRELLIS_SECRET_KEY: keyA }));
        const first = await vault.put('API_KEY', { value: PLANT, scope: 'global', description: 'the api', by: 'admin' });
        expect(first.created).toBe(true);
        const c1 = (await store.db.selectFrom('secrets').select('ciphertext').executeTakeFirstOrThrow()).ciphertext;
        const again = await vault.put('API_KEY', { value: PLANT, scope: 'global', by: 'admin' });
        expect(again.created).toBe(false);
        expect(again.secret.description).toBe('the api'); // kept when not given
        const c2 = (await store.db.selectFrom('secrets').select('ciphertext').executeTakeFirstOrThrow()).ciphertext;
        expect(c2).not.toBe(c1);
        expect(await dumpText(store)).not.toContain(PLANT);
        expect(Buffer.from(c2, 'base64').toString('latin1')).not.toContain(PLANT);
        const list = await vault.list();
        expect(list).toEqual([expect.objectContaining({ name: 'API_KEY', scope: 'global', description: 'the api' })]);
        expect(JSON.stringify(list)).not.toContain(PLANT);
        expect(await vault.reveal('API_KEY', 'wf_any')).toBe(PLANT);
        expect(await vault.reveal('API_KEY', undefined)).toBe(PLANT);
        // a ciphertext moved onto another name does not decrypt (the name is authenticated)
        await vault.put('OTHER', { value: 'x', scope: 'global', by: 'admin' });
        await store.db.updateTable('secrets').set({ ciphertext: c2 }).where('name', '=', 'OTHER').execute();
        await expect(vault.reveal('OTHER', undefined)).rejects.toMatchObject({ code: 'SECRET_DECRYPT_FAILED' });
        expect(await vault.delete('OTHER')).toBe(true);
        expect(await vault.delete('OTHER')).toBe(false);
        await expect(vault.put('1bad', { value: 'x', scope: 'global', by: 'a' })).rejects.toMatchObject({
          code: 'INPUT_INVALID',
        });
      } finally {
        await store.close();
      }
    });

    it('scopes: a workflow-scoped secret is revealed to that workflow only', async () => {
      const target = await d.target();
      const store = await openStore(target);
      try {
        const vault = await SecretVault.open(store.db, secretKeySource(target, { TRELLIS_SECRET_KEY: keyA }));
        await vault.put('WF_TOKEN', { value: 'v', scope: 'workflow:wf_1', by: 'bob' });
        expect(await vault.reveal('WF_TOKEN', 'wf_1')).toBe('v');
        await expect(vault.reveal('WF_TOKEN', 'wf_2')).rejects.toMatchObject({ code: 'SECRET_NOT_ALLOWED_HERE' });
        await expect(vault.reveal('WF_TOKEN', undefined)).rejects.toMatchObject({ code: 'SECRET_NOT_ALLOWED_HERE' });
        await expect(vault.reveal('NOPE', 'wf_1')).rejects.toMatchObject({ code: 'SECRET_NOT_FOUND' });
      } finally {
        await store.close();
      }
    });

    it('a wrong key fails at open with a clear message; no key fails when secrets exist', async () => {
      const target = await d.target();
      const store = await openStore(target);
      try {
        const vault = await SecretVault.open(store.db, secretKeySource(target, { TRELLIS_SECRET_KEY: keyA }));
        await vault.put('K', { value: PLANT, scope: 'global', by: 'admin' });
        await expect(SecretVault.open(store.db, secretKeySource(target, { TRELLIS_SECRET_KEY: keyB }))).rejects.toThrow(
          /is not the one this database's secrets were written with/,
        );
        if (d.name === 'postgres') {
          await expect(SecretVault.open(store.db, secretKeySource(target, {}))).rejects.toThrow(/no key was given/);
        }
        expect(() => secretKeySource(target, { TRELLIS_SECRET_KEY: 'short' })).toThrow(/not a 256-bit key/);
      } finally {
        await store.close();
      }
    });

    it('rotate-key with TRELLIS_SECRET_KEY=new,old re-encrypts every row while an old-key reader keeps working', async () => {
      const target = await d.target();
      const store = await openStore(target);
      const other = await openStore(target); // a second process, still on new,old
      try {
        const vault = await SecretVault.open(store.db, secretKeySource(target, { TRELLIS_SECRET_KEY: keyA }));
        for (let i = 0; i < 5; i++) await vault.put(`S${i}`, { value: `${PLANT}-${i}`, scope: 'global', by: 'admin' });
        const running = await SecretVault.open(other.db, secretKeySource(target, { TRELLIS_SECRET_KEY: `${keyB},${keyA}` }));
        const rotating = await SecretVault.open(store.db, secretKeySource(target, { TRELLIS_SECRET_KEY: `${keyB},${keyA}` }));
        const result = await rotating.rotate();
        expect(result.reencrypted).toBe(5);
        const ids = await store.db.selectFrom('secrets').select('key_id').distinct().execute();
        expect(ids.map((r) => r.key_id)).toEqual([result.keyId]);
        for (let i = 0; i < 5; i++) expect(await running.reveal(`S${i}`, undefined)).toBe(`${PLANT}-${i}`);
        // the running process writes under the new key now
        await running.put('S9', { value: 'nine', scope: 'global', by: 'admin' });
        expect(
          (await store.db.selectFrom('secrets').select('key_id').where('name', '=', 'S9').executeTakeFirstOrThrow()).key_id,
        ).toBe(result.keyId);
        // after the rotation the old key alone is refused at start; the new one alone opens
        await expect(SecretVault.open(store.db, secretKeySource(target, { TRELLIS_SECRET_KEY: keyA }))).rejects.toThrow(
          /not the one/,
        );
        const fresh = await SecretVault.open(store.db, secretKeySource(target, { TRELLIS_SECRET_KEY: keyB }));
        expect(await fresh.reveal('S3', undefined)).toBe(`${PLANT}-3`);
      } finally {
        await other.close();
        await store.close();
      }
    });
  });
}

describe('key file beside a SQLite database', () => {
  it('is created with mode 0600, refused when others can read it, and rotated without a restart', async () => {
    const target = join(mkdtempSync(join(tmpdir(), 'trellis-keyfile-')), 'trellis.db');
    const store = await openStore(target);
    const other = await openStore(target);
    try {
      const vault = await SecretVault.open(store.db, secretKeySource(target, {}));
      const file = secretKeyFileFor(target);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      await vault.put('A', { value: PLANT, scope: 'global', by: 'admin' });
      const running = await SecretVault.open(other.db, secretKeySource(target, {}));
      const before = readFileSync(file, 'utf8');
      const r = await vault.rotate();
      expect(r.reencrypted).toBe(1);
      expect(r.keyId).not.toBe(r.previousKeyId);
      const after = readFileSync(file, 'utf8');
      expect(after).not.toBe(before);
      expect(after.trim().split('\n')).toHaveLength(1);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      // the running process held only the old key: it re-reads the file on the first new-key row
      expect(await running.reveal('A', undefined)).toBe(PLANT);
      chmodSync(file, 0o644);
      await expect(SecretVault.open(store.db, secretKeySource(target, {}))).rejects.toMatchObject({
        code: 'SECRET_KEY_INSECURE',
      });
      chmodSync(file, 0o600);
      writeFileSync(file, `${keyB}\n`, { mode: 0o600 });
      await expect(SecretVault.open(store.db, secretKeySource(target, {}))).rejects.toThrow(/not the one/);
    } finally {
      await other.close();
      await store.close();
    }
  });
});
