/**
 * Users and API tokens. A token is `trls_` + 32 random base62 characters + a 6-character
 * checksum, so it is recognisable (secret scanners, logs) and a mistyped or truncated token is
 * refused without a database lookup. Only its SHA-256 is stored; the token itself is shown once.
 * Lookups compare the hashes in constant time. Tokens can be revoked and can expire.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ApiTokensTable, Database } from '../tables.ts';
import { newId, nowIso } from './workflows.ts';

export const TOKEN_PREFIX = 'trls_';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
const MIN_TOKEN_LENGTH = 16;
const MAX_TOKEN_LENGTH = 512;
/** The name of the administrator created on first start. */
export const ADMIN_PRINCIPAL = 'admin';
/** Principal names: what `trellis token create --name` accepts and permissions name. */
export const PRINCIPAL_PATTERN = /^[A-Za-z0-9_.@-]{1,100}$/;

/** Who is calling: the principal a token belongs to. */
export interface Principal {
  name: string;
  isAdmin: boolean;
  tokenId: string;
}

/** A token as listed (never the secret). */
export interface TokenInfo {
  id: string;
  principal: string;
  name: string;
  prefix: string;
  isAdmin: boolean;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface NewToken {
  principal: string;
  /** A label for the token (e.g. "laptop", "ci"). Defaults to the principal. */
  name?: string;
  admin?: boolean;
  expiresAt?: string | null;
}

function base62(bytes: Buffer, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += BASE62[(bytes[i % bytes.length] ?? 0) % 62];
  return out;
}

function checksum(body: string): string {
  return base62(createHash('sha256').update(body).digest(), CHECKSUM_LENGTH);
}

/** SHA-256 of a token, hex: what the database stores. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Generates a fresh token string (not stored). */
export function generateToken(): string {
  // Rejection-free mapping: 256 % 62 bias is negligible for 32 characters of ~5.95 bits each.
  const body = base62(randomBytes(BODY_LENGTH), BODY_LENGTH);
  return `${TOKEN_PREFIX}${body}${checksum(body)}`;
}

/** True when a string has the shape and a valid checksum of a Trellis token. */
export function isWellFormedToken(token: string): boolean {
  if (!token.startsWith(TOKEN_PREFIX) || token.length !== TOKEN_PREFIX.length + BODY_LENGTH + CHECKSUM_LENGTH) return false;
  // Every character must be base62: a non-ASCII character would make the byte lengths below
  // differ (and timingSafeEqual throw) although the string lengths match.
  if (!/^[0-9A-Za-z]+$/.test(token.slice(TOKEN_PREFIX.length))) return false;
  const body = token.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + BODY_LENGTH);
  const sum = token.slice(TOKEN_PREFIX.length + BODY_LENGTH);
  return timingSafeEqual(Buffer.from(sum), Buffer.from(checksum(body)));
}

/**
 * Why a token given in configuration (TRELLIS_ADMIN_TOKEN) can never authenticate, or
 * undefined when it can: too short or long, characters outside printable ASCII, or a `trls_`
 * token whose checksum is wrong (mistyped or truncated).
 */
export function configuredTokenProblem(token: string): string | undefined {
  if (token.length < MIN_TOKEN_LENGTH || token.length > MAX_TOKEN_LENGTH)
    return `it must be ${MIN_TOKEN_LENGTH} to ${MAX_TOKEN_LENGTH} characters long`;
  if (!/^[\x21-\x7e]+$/.test(token)) return 'it may contain only printable ASCII characters, without spaces';
  if (token.startsWith(TOKEN_PREFIX) && !isWellFormedToken(token))
    return `it starts with '${TOKEN_PREFIX}' but its checksum is wrong (mistyped or truncated?); copy it again, or make a new one with \`trellis token create\``;
  return undefined;
}

function toInfo(row: ApiTokensTable): TokenInfo {
  return {
    id: row.id,
    principal: row.principal,
    name: row.name,
    prefix: row.prefix,
    isAdmin: row.is_admin === 1,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

async function ensureUser(db: Kysely<Database>, name: string, admin: boolean): Promise<void> {
  await db
    .insertInto('users')
    .values({ name, is_admin: admin ? 1 : 0, created_at: nowIso() })
    .onConflict((oc) => (admin ? oc.column('name').doUpdateSet({ is_admin: 1 }) : oc.column('name').doNothing()))
    .execute();
}

async function storeToken(db: Kysely<Database>, token: string, input: NewToken): Promise<TokenInfo> {
  if (!PRINCIPAL_PATTERN.test(input.principal))
    throw new TypeError(`principal '${input.principal}' is not a valid name (letters, digits, _ . @ -; at most 100)`);
  await ensureUser(db, input.principal, input.admin === true);
  const row: ApiTokensTable = {
    id: newId('tok'),
    principal: input.principal,
    name: input.name ?? input.principal,
    token_hash: hashToken(token),
    prefix: token.slice(0, TOKEN_PREFIX.length + 6),
    is_admin: input.admin ? 1 : 0,
    created_at: nowIso(),
    expires_at: input.expiresAt ?? null,
    revoked_at: null,
    last_used_at: null,
  };
  await db.insertInto('api_tokens').values(row).execute();
  return toInfo(row);
}

/** Creates a token for a principal (creating the user if new). The returned `token` is shown once. */
export async function createToken(db: Kysely<Database>, input: NewToken): Promise<{ token: string; info: TokenInfo }> {
  const token = generateToken();
  return { token, info: await storeToken(db, token, input) };
}

/**
 * The principal a presented token belongs to, or undefined when it is malformed, unknown,
 * revoked or expired. A malformed `trls_` token is refused before touching the database.
 */
export async function verifyToken(db: Kysely<Database>, token: string, now: Date = new Date()): Promise<Principal | undefined> {
  if (token.length < MIN_TOKEN_LENGTH || token.length > MAX_TOKEN_LENGTH) return undefined;
  if (token.startsWith(TOKEN_PREFIX) && !isWellFormedToken(token)) return undefined;
  const hash = hashToken(token);
  const row = await db.selectFrom('api_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  if (!row) return undefined;
  // The lookup is by hash of the secret; the constant-time compare guards against any
  // index-level short-circuit ever leaking how much of a hash matched.
  if (!timingSafeEqual(Buffer.from(row.token_hash, 'hex'), Buffer.from(hash, 'hex'))) return undefined;
  if (row.revoked_at !== null) return undefined;
  if (row.expires_at !== null && Date.parse(row.expires_at) <= now.getTime()) return undefined;
  // Administration is a property of the token, never of the user: revoking the admin token ends
  // it, and the principal's other tokens never inherit it.
  return { name: row.principal, isAdmin: row.is_admin === 1, tokenId: row.id };
}

/** Records that a token was used (callers throttle this; it is a write). */
export async function touchToken(db: Kysely<Database>, tokenId: string): Promise<void> {
  await db.updateTable('api_tokens').set({ last_used_at: nowIso() }).where('id', '=', tokenId).execute();
}

/** Revokes a token; false when it is unknown or already revoked. */
export async function revokeToken(db: Kysely<Database>, tokenId: string): Promise<boolean> {
  const res = await db
    .updateTable('api_tokens')
    .set({ revoked_at: nowIso() })
    .where('id', '=', tokenId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/** Tokens, newest first; only a principal's own unless `principal` is omitted. */
export async function listTokens(db: Kysely<Database>, principal?: string): Promise<TokenInfo[]> {
  let q = db.selectFrom('api_tokens').selectAll();
  if (principal !== undefined) q = q.where('principal', '=', principal);
  const rows = await q.orderBy('created_at', 'desc').execute();
  return rows.map(toInfo);
}

/**
 * First start: when no administrator exists yet, creates the `admin` user with a token —
 * `envToken` (TRELLIS_ADMIN_TOKEN) if given, else a generated one. Returns the token only when
 * one was generated, so the caller prints it exactly once; later starts return `created: false`.
 */
export async function ensureAdmin(
  db: Kysely<Database>,
  envToken?: string,
): Promise<{ created: false } | { created: true; token: string | undefined }> {
  // Checked at every start, not only the first: a token that can never authenticate is a
  // configuration mistake worth stopping for, whether or not it would be used now.
  const problem = envToken === undefined ? undefined : configuredTokenProblem(envToken);
  if (problem !== undefined)
    throw new TypeError(`TRELLIS_ADMIN_TOKEN cannot be used: ${problem}. Unset it to have a token generated on first start.`);
  // `users.is_admin` records that an administrator was made once (first start is over); it
  // grants nothing — administration lives on tokens.
  const existing = await db.selectFrom('users').select('name').where('is_admin', '=', 1).executeTakeFirst();
  if (existing) return { created: false };
  const token = envToken ?? generateToken();
  await storeToken(db, token, { principal: ADMIN_PRINCIPAL, name: 'first-start admin', admin: true });
  return { created: true, token: envToken === undefined ? token : undefined };
}
