/**
 * Where the secrets key comes from:
 *
 * - `TRELLIS_SECRET_KEY`: one key, or a comma list during a rotation (`new,old`: the first
 *   encrypts, all decrypt). Required with PostgreSQL, where every process sharing the database
 *   must hold it.
 * - otherwise, with SQLite, a key file beside the database (`<db>.secret-key`), created on first
 *   use with mode 0600 and refused when others may read it. It may list several keys, one per
 *   line, first one current (a rotation in progress); it is re-read when a row names a key this
 *   process does not hold yet, so a rotation needs no restart.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { TrellisError } from '@trellis/core';
import { isPostgresUrl } from '../postgres.ts';
import { formatSecretKey, generateSecretKey, type KeyRing, keyRing, parseSecretKey, type SecretKey } from './crypto.ts';

export const SECRET_KEY_ENV = 'TRELLIS_SECRET_KEY';

export interface SecretKeySource {
  /** Where the keys come from, for messages (never the key). */
  readonly description: string;
  /** The key file, when keys live in one (rotation rewrites it). */
  readonly file: string | undefined;
  /** Reads the keys (again). */
  load(): KeyRing;
}

/** The key file of a SQLite database. */
export function secretKeyFileFor(dbPath: string): string {
  return `${dbPath}.secret-key`;
}

/** Parses `TRELLIS_SECRET_KEY` (comma list). */
export function parseKeyList(text: string, where: string): KeyRing {
  const parts = text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '' && !s.startsWith('#'));
  if (parts.length === 0) throw new TrellisError('SECRET_KEY_INVALID', `${where} is empty`, { category: 'user' });
  return keyRing(parts.map((p, i) => parseSecretKey(p, parts.length > 1 ? `${where} (key ${i + 1})` : where)));
}

/**
 * The key source for a database target, or undefined when none is configured (PostgreSQL
 * without `TRELLIS_SECRET_KEY`: secrets are then unavailable, and a database that already
 * holds secrets refuses to start).
 */
export function secretKeySource(
  target: string,
  env: Record<string, string | undefined> = process.env,
): SecretKeySource | undefined {
  const fromEnv = env[SECRET_KEY_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    const ring = parseKeyList(fromEnv, SECRET_KEY_ENV);
    return { description: SECRET_KEY_ENV, file: undefined, load: () => ring };
  }
  if (isPostgresUrl(target)) return undefined;
  if (target === ':memory:') {
    const ring = keyRing([generateSecretKey()]);
    return { description: 'an in-memory key', file: undefined, load: () => ring };
  }
  const file = secretKeyFileFor(target);
  return { description: `the key file ${file}`, file, load: () => readKeyFile(file, true) };
}

/** Reads the key file, creating it (mode 0600) when `create` and it does not exist. */
export function readKeyFile(file: string, create: boolean): KeyRing {
  if (!existsSync(file)) {
    if (!create) throw new TrellisError('SECRET_KEY_MISSING', `the key file ${file} does not exist`, { category: 'user' });
    mkdirSync(dirname(file), { recursive: true });
    try {
      writeFileSync(file, `${formatSecretKey(generateSecretKey())}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // another process created it first
    }
  }
  const mode = statSync(file).mode & 0o777;
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new TrellisError(
      'SECRET_KEY_INSECURE',
      `the key file ${file} can be read by other users (mode ${mode.toString(8)}); run \`chmod 600 ${file}\``,
      { category: 'user' },
    );
  }
  return parseKeyList(readFileSync(file, 'utf8'), `the key file ${file}`);
}

/** Replaces the key file atomically (mode 0600), keys in order, first one current. */
export function writeKeyFile(file: string, keys: readonly SecretKey[]): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${keys.map(formatSecretKey).join('\n')}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
