/**
 * Authentication: `Authorization: Bearer <token>` (or `?token=` where a browser cannot set
 * headers: WebSocket and EventSource). Tokens are verified against their stored SHA-256 hash
 * (see @trellis/store auth). After authentication each token is rate limited.
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

/** The presented token, from the Authorization header or the `token` query parameter. */
export function presentedToken(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (typeof header === 'string' && header.length > 0) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m?.[1] ?? '';
  }
  const q = req.query as Record<string, unknown> | undefined;
  const t = q?.token;
  return typeof t === 'string' ? t : undefined;
}

/** Resolves the caller or throws 401; then applies the per-token rate limit (429). */
export async function authenticate(req: FastifyRequest, ctx: ServerContext): Promise<Principal> {
  const token = presentedToken(req);
  if (token === undefined)
    throw new HttpProblem('UNAUTHORIZED', 'this needs an API token: send `Authorization: Bearer <token>`', {
      headers: { 'www-authenticate': 'Bearer realm="trellis"' },
    });
  const principal = token === '' ? undefined : await verifyCached(ctx, token);
  if (!principal) {
    // Failed attempts are limited per client address, so guessing tokens is slow as well as futile.
    const waitMs = ctx.failedAuthLimiter.take(`ip:${req.ip}`);
    if (waitMs > 0)
      throw new HttpProblem(
        'RATE_LIMITED',
        `too many requests with bad tokens from this address; retry in ${Math.ceil(waitMs / 1000)} s`,
        {
          headers: { 'retry-after': String(Math.ceil(waitMs / 1000)) },
        },
      );
  }
  if (!principal)
    throw new HttpProblem(
      'UNAUTHORIZED',
      'the token is malformed, unknown, revoked or expired; create one with `trellis token create`',
      {
        headers: { 'www-authenticate': 'Bearer realm="trellis", error="invalid_token"' },
      },
    );
  const waitMs = ctx.rateLimiter.take(principal.tokenId);
  if (waitMs > 0)
    throw new HttpProblem('RATE_LIMITED', `too many requests for this token; retry in ${Math.ceil(waitMs / 1000)} s`, {
      headers: { 'retry-after': String(Math.ceil(waitMs / 1000)) },
    });
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
