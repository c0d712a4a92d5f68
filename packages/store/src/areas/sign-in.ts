/**
 * One-time console sign-in codes. `trellis serve` prints a link carrying a short-lived code
 * (never a token); the console exchanges it once for a session token. A code is 24 random
 * base62 characters prefixed `trsi_`, lives 5 minutes by default, is stored only as its SHA-256,
 * and is marked used by the same statement that checks it, so two exchanges racing for one code
 * cannot both win.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../tables.ts';
import { createToken, hashToken, type TokenInfo } from './auth.ts';

export const SIGN_IN_CODE_PREFIX = 'trsi_';
/** How long a printed sign-in code can be exchanged. */
export const SIGN_IN_CODE_TTL_MS = 5 * 60_000;
/** How long the session token a code is exchanged for lives. */
export const SIGN_IN_SESSION_TTL_MS = 12 * 60 * 60_000;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const CODE_LENGTH = 24;

/** Why an exchange was refused. Closed: each has its own message. */
export type SignInRefusal = 'SIGN_IN_CODE_INVALID' | 'SIGN_IN_CODE_EXPIRED' | 'SIGN_IN_CODE_USED';

export type SignInExchange = { ok: true; token: string; info: TokenInfo } | { ok: false; code: SignInRefusal; message: string };

/** Makes a one-time sign-in code for a principal; the returned code is shown once. */
export async function createSignInCode(
  db: Kysely<Database>,
  input: { principal: string; admin: boolean; ttlMs?: number; now?: Date },
): Promise<{ code: string; expiresAt: string }> {
  const bytes = randomBytes(CODE_LENGTH);
  let body = '';
  for (let i = 0; i < CODE_LENGTH; i++) body += BASE62[(bytes[i] ?? 0) % 62];
  const code = `${SIGN_IN_CODE_PREFIX}${body}`;
  const now = input.now ?? new Date();
  const expiresAt = new Date(now.getTime() + (input.ttlMs ?? SIGN_IN_CODE_TTL_MS)).toISOString();
  // Spent and expired codes are kept for a day (the refusal can then say "used" or "expired").
  const dayAgo = new Date(now.getTime() - 86_400_000).toISOString();
  await db.deleteFrom('sign_in_codes').where('expires_at', '<', dayAgo).execute();
  await db
    .insertInto('sign_in_codes')
    .values({
      code_hash: hashToken(code),
      principal: input.principal,
      is_admin: input.admin ? 1 : 0,
      created_at: now.toISOString(),
      expires_at: expiresAt,
      used_at: null,
    })
    .execute();
  return { code, expiresAt };
}

/**
 * Exchanges a code for a new session token (named "console sign-in", expiring after
 * `SIGN_IN_SESSION_TTL_MS`). Works once: a second exchange, an expired or an unknown code is
 * refused with a code saying which.
 */
export async function exchangeSignInCode(db: Kysely<Database>, code: string, now: Date = new Date()): Promise<SignInExchange> {
  const wellFormed = code.startsWith(SIGN_IN_CODE_PREFIX) && /^[0-9A-Za-z]{24}$/.test(code.slice(SIGN_IN_CODE_PREFIX.length));
  const hash = wellFormed ? hashToken(code) : undefined;
  const at = now.toISOString();
  if (hash !== undefined) {
    const claimed = await db
      .updateTable('sign_in_codes')
      .set({ used_at: at })
      .where('code_hash', '=', hash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', at)
      .returning(['principal', 'is_admin'])
      .executeTakeFirst();
    if (claimed) {
      const created = await createToken(db, {
        principal: claimed.principal,
        name: 'console sign-in',
        admin: claimed.is_admin === 1,
        expiresAt: new Date(now.getTime() + SIGN_IN_SESSION_TTL_MS).toISOString(),
      });
      return { ok: true, ...created };
    }
    const row = await db.selectFrom('sign_in_codes').select(['used_at']).where('code_hash', '=', hash).executeTakeFirst();
    if (row?.used_at != null)
      return {
        ok: false,
        code: 'SIGN_IN_CODE_USED',
        message:
          'this sign-in link was already used (each link works once); restart `trellis serve` for a new one, or sign in with an API token',
      };
    if (row)
      return {
        ok: false,
        code: 'SIGN_IN_CODE_EXPIRED',
        message: `this sign-in link expired (links work for ${SIGN_IN_CODE_TTL_MS / 60_000} minutes); restart \`trellis serve\` for a new one, or sign in with an API token`,
      };
  }
  return {
    ok: false,
    code: 'SIGN_IN_CODE_INVALID',
    message:
      'this sign-in code is not one this server issued; open the link `trellis serve` printed, or sign in with an API token',
  };
}
