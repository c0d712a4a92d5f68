/**
 * Authentication: `Authorization: Bearer <token>` (or `?token=` where a browser cannot set
 * headers: WebSocket and EventSource). Tokens are verified against their stored SHA-256 hash
 * (see @trellis/store auth). After authentication each principal is rate limited.
 */
import { type Principal, touchToken, verifyToken } from '@trellis/store';
import type { FastifyRequest } from 'fastify';
import type { ServerContext } from './context.ts';
import { HttpProblem } from './problem.ts';

const TOUCH_INTERVAL_MS = 60_000;
const lastTouched = new Map<string, number>();

/**
 * Verified tokens are remembered for 2 s: a burst of requests costs one lookup, and a token
 * revoked or expiring stops working within 2 s (the CLI revokes from another process, so a
 * longer cache would need an invalidation channel).
 */
const PRINCIPAL_TTL_MS = 2_000;
const caches = new WeakMap<ServerContext, Map<string, { principal: Principal; until: number }>>();

async function verifyCached(ctx: ServerContext, token: string): Promise<Principal | undefined> {
  let verified = caches.get(ctx);
  if (!verified) {
    verified = new Map();
    caches.set(ctx, verified);
  }
  const now = Date.now();
  const hit = verified.get(token);
  if (hit && hit.until > now) return hit.principal;
  const principal = await verifyToken(ctx.db, token);
  if (principal) {
    if (verified.size > 10_000) verified.clear();
    verified.set(token, { principal, until: now + PRINCIPAL_TTL_MS });
  } else verified.delete(token);
  return principal;
}

/** Where a request may carry its token. */
export interface TokenSources {
  /**
   * Accept `?token=` as well as the header: only for WebSocket upgrades and EventSource
   * streams, where a browser cannot set headers. Everywhere else a query token is refused, so
   * tokens do not end up in browser history, proxies and access logs.
   */
  query: boolean;
}

/**
 * The presented token: from the Authorization header, else (where allowed) the `token` query
 * parameter; `undefined` when there is none. `{ misplaced: true }` marks a query token on a
 * route that takes it only in the header.
 */
export function presentedToken(req: FastifyRequest, sources: TokenSources): { token: string | undefined; misplaced: boolean } {
  const header = req.headers.authorization;
  if (typeof header === 'string' && header.length > 0) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return { token: m?.[1] ?? '', misplaced: false };
  }
  const t = queryToken(req.url);
  if (t === undefined) return { token: undefined, misplaced: false };
  return sources.query ? { token: t, misplaced: false } : { token: undefined, misplaced: true };
}

/**
 * The `token` query parameter, read from the raw URL as the query parser would decode it
 * (`?%74oken=` is `token` too). Authentication runs before Fastify parses the query.
 */
function queryToken(url: string): string | undefined {
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  for (const pair of url.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=');
    const key = decodeQueryPart(eq < 0 ? pair : pair.slice(0, eq));
    if (key === 'token') return eq < 0 ? '' : (decodeQueryPart(pair.slice(eq + 1)) ?? '');
  }
  return undefined;
}

export function decodeQueryPart(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

/**
 * A stranger's large body is never read: the refusal closes the connection instead
 * (`Connection: close`), because reading and discarding 2 MB to keep the connection alive
 * would cost far more CPU than the refusal itself. Small bodies (up to 64 KiB) are drained as
 * usual and the connection stays open: a client that merely forgot its token keeps a clean
 * keep-alive connection. (A client still sending a large body when the connection closes may
 * see a write error instead of the 401: the price of not reading what a stranger sends.)
 */
const DRAIN_LIMIT_BYTES = 64 * 1024;

function unreadBodyHeaders(req: FastifyRequest): Record<string, string> {
  const length = Number(req.headers['content-length'] ?? 0);
  const large = req.headers['transfer-encoding'] !== undefined || !(length <= DRAIN_LIMIT_BYTES);
  return large ? { connection: 'close' } : {};
}

function refuseUnauthenticated(req: FastifyRequest, ctx: ServerContext): void {
  // Missing and bad tokens alike are limited per client address: guessing is slow as well as
  // futile, and a stranger's requests cost little before they stop being answered at all.
  const waitMs = ctx.failedAuthLimiter.take(`ip:${req.ip}`);
  if (waitMs > 0)
    throw new HttpProblem(
      'RATE_LIMITED',
      `too many requests without a valid token from this address; retry in ${Math.ceil(waitMs / 1000)} s`,
      { headers: { 'retry-after': String(Math.ceil(waitMs / 1000)), ...unreadBodyHeaders(req) } },
    );
}

/**
 * Resolves the caller or throws 401; then applies the per-principal rate limit (429). Runs in
 * the route's `onRequest` hook, before the body is read or parsed, so a stranger's request
 * costs a header check and nothing more.
 */
export async function authenticate(req: FastifyRequest, ctx: ServerContext, sources: TokenSources): Promise<Principal> {
  const { token, misplaced } = presentedToken(req, sources);
  if (token === undefined) {
    refuseUnauthenticated(req, ctx);
    throw new HttpProblem(
      'UNAUTHORIZED',
      misplaced
        ? 'send the token in the `Authorization: Bearer <token>` header; `?token=` is accepted only by WebSocket and event-stream (SSE) requests'
        : 'this needs an API token: send `Authorization: Bearer <token>`',
      { headers: { 'www-authenticate': 'Bearer realm="trellis"', ...unreadBodyHeaders(req) } },
    );
  }
  const principal = token === '' ? undefined : await verifyCached(ctx, token);
  if (!principal) {
    refuseUnauthenticated(req, ctx);
    throw new HttpProblem(
      'UNAUTHORIZED',
      'the token is malformed, unknown, revoked or expired; create one with `trellis token create`',
      {
        headers: { 'www-authenticate': 'Bearer realm="trellis", error="invalid_token"', ...unreadBodyHeaders(req) },
      },
    );
  }
  // Limits are per principal: minting more tokens buys no more requests.
  const waitMs = ctx.rateLimiter.take(`principal:${principal.name}`);
  if (waitMs > 0)
    throw new HttpProblem(
      'RATE_LIMITED',
      `too many requests for '${principal.name}' (all its tokens together); retry in ${Math.ceil(waitMs / 1000)} s`,
      {
        headers: { 'retry-after': String(Math.ceil(waitMs / 1000)) },
      },
    );
  const now = Date.now();
  if ((lastTouched.get(principal.tokenId) ?? 0) + TOUCH_INTERVAL_MS < now) {
    if (lastTouched.size > 100_000) lastTouched.clear();
    lastTouched.set(principal.tokenId, now);
    await touchToken(ctx.db, principal.tokenId);
  }
  return principal;
}

/** Drops a revoked token from this server's cache at once (the CLI path relies on the 2 s TTL). */
export function forgetToken(ctx: ServerContext, tokenId: string): void {
  const verified = caches.get(ctx);
  if (!verified) return;
  for (const [token, entry] of verified) if (entry.principal.tokenId === tokenId) verified.delete(token);
}
