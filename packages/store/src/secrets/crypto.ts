/**
 * The cipher of the secrets store: AES-256-GCM with a fresh random 96-bit nonce per write and
 * the secret's name as additional authenticated data (a ciphertext copied onto another row does
 * not decrypt). A key is identified by its key check value — an HMAC of a fixed label, never the
 * key itself — so a process can tell at start whether it holds the key the rows were written with.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { TrellisError } from '@trellis/core';

export interface SecretKey {
  /** Key check value: 16 hex characters of HMAC-SHA256(key, label). */
  readonly id: string;
  readonly bytes: Buffer;
}

/** The keys a process holds: `current` encrypts, every key decrypts rows written under it. */
export interface KeyRing {
  readonly current: SecretKey;
  readonly keys: readonly SecretKey[];
}

const NONCE = 12;
const TAG = 16;

export function keyIdOf(bytes: Buffer): string {
  return createHmac('sha256', bytes).update('trellis secret key check v1').digest('hex').slice(0, 16);
}

/** Parses a key written as 64 hex characters or base64 / base64url of 32 bytes. */
export function parseSecretKey(text: string, where: string): SecretKey {
  const t = text.trim();
  let bytes: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(t)) bytes = Buffer.from(t, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) bytes = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (bytes?.length !== 32) {
    throw new TrellisError(
      'SECRET_KEY_INVALID',
      `${where} is not a 256-bit key: give 32 random bytes as 64 hex characters or 44 base64 characters (\`trellis secrets generate-key\` prints one)`,
      { category: 'user' },
    );
  }
  return { id: keyIdOf(bytes), bytes };
}

export function generateSecretKey(): SecretKey {
  const bytes = randomBytes(32);
  return { id: keyIdOf(bytes), bytes };
}

export function formatSecretKey(key: SecretKey): string {
  return key.bytes.toString('base64');
}

/** A ring from keys in order (the first one encrypts); duplicates are dropped. */
export function keyRing(keys: readonly SecretKey[]): KeyRing {
  const unique = keys.filter((k, i) => keys.findIndex((x) => x.id === k.id) === i);
  const current = unique[0];
  if (!current) throw new TrellisError('SECRET_KEY_INVALID', 'a key ring needs at least one key', { category: 'user' });
  return { current, keys: unique };
}

export function encryptSecret(key: SecretKey, name: string, value: string): string {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', key.bytes, nonce);
  cipher.setAAD(Buffer.from(name, 'utf8'));
  const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64');
}

/** Decrypts; a wrong key or a tampered row fails with SECRET_DECRYPT_FAILED, never garbage. */
export function decryptSecret(key: SecretKey, name: string, blob: string): string {
  const raw = Buffer.from(blob, 'base64');
  if (raw.length < NONCE + TAG) throw decryptFailed(name);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.bytes, raw.subarray(0, NONCE));
    decipher.setAAD(Buffer.from(name, 'utf8'));
    decipher.setAuthTag(raw.subarray(raw.length - TAG));
    return Buffer.concat([decipher.update(raw.subarray(NONCE, raw.length - TAG)), decipher.final()]).toString('utf8');
  } catch {
    throw decryptFailed(name);
  }
}

function decryptFailed(name: string): TrellisError {
  return new TrellisError(
    'SECRET_DECRYPT_FAILED',
    `secret ${name} does not decrypt with the key it names: the row was altered or the key is not the one it was written with`,
  );
}
