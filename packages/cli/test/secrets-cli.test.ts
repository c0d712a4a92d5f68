/**
 * `trellis secrets`: generate-key prints a usable key; rotate-key re-encrypts every secret of a
 * SQLite database under a fresh key in its key file (a vault opened before keeps reading);
 * list shows names only; delete; a PostgreSQL URL without TRELLIS_SECRET_KEY is refused.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, parseSecretKey, SecretVault, secretKeyFileFor, secretKeySource } from '@trellis/store';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/main.ts';

afterEach(() => vi.restoreAllMocks());

function capture(): { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
  return { out: () => out, err: () => err };
}

describe('trellis secrets', () => {
  it('generate-key prints a 256-bit key', async () => {
    const io = capture();
    expect(await main(['secrets', 'generate-key'])).toBe(0);
    expect(parseSecretKey(io.out().trim(), 'printed').bytes).toHaveLength(32);
  });

  it('rotate-key, list and delete on a SQLite database with its key file', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'trellis-secrets-cli-')), 'trellis.db');
    const store = await openStore(db);
    const previousKey = process.env.TRELLIS_SECRET_KEY;
    delete process.env.TRELLIS_SECRET_KEY;
    try {
      const vault = await SecretVault.open(store.db, secretKeySource(db, {}));
      await vault.put('API_KEY', { value: 'v-123456789', scope: 'global', description: 'weather', by: 'admin' });
      const before = readFileSync(secretKeyFileFor(db), 'utf8');
      const io = capture();
      expect(await main(['secrets', 'rotate-key', '--db', db])).toBe(0);
      expect(io.err()).toMatch(/re-encrypted 1 secret\(s\) under key [0-9a-f]{16} \(was [0-9a-f]{16}\)/);
      expect(readFileSync(secretKeyFileFor(db), 'utf8')).not.toBe(before);
      expect(await vault.reveal('API_KEY', undefined)).toBe('v-123456789'); // re-reads the key file
      expect(await main(['secrets', 'list', '--db', db])).toBe(0);
      expect(io.out()).toMatch(/^API_KEY {2}global {2}updated .* by admin {2}weather\n$/);
      expect(io.out()).not.toContain('v-123456789');
      expect(await main(['secrets', 'delete', 'API_KEY', '--db', db])).toBe(0);
      expect(await main(['secrets', 'delete', 'API_KEY', '--db', db])).toBe(1);
      expect(await main(['secrets', 'rotate-key', '--db', 'postgres://u:p@127.0.0.1:1/x'])).toBe(2);
      expect(io.err()).toContain('with PostgreSQL the key must be given: set TRELLIS_SECRET_KEY');
    } finally {
      if (previousKey !== undefined) process.env.TRELLIS_SECRET_KEY = previousKey;
      await store.close();
    }
  });
});
