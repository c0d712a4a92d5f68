/**
 * Headers every response carries so the console and the API docs cannot be framed, sniffed or
 * made to leak URLs, and so an injected script has nowhere to load from or send to:
 *
 * - `Content-Security-Policy`: scripts, styles, images and connections from this origin only
 *   (`connect-src 'self'` covers the same-origin WebSocket); inline styles are allowed because
 *   the graph editor positions nodes with style attributes; no plugins, no `<base>` tricks,
 *   forms post only here, and no page may frame this one (`frame-ancestors 'none'`).
 * - `X-Frame-Options: DENY` for browsers that predate frame-ancestors.
 * - `X-Content-Type-Options: nosniff`: a JSON or text response is never run as a script.
 * - `Referrer-Policy: no-referrer`: console URLs (run ids, a `#token=` sign-in link) never
 *   leave in a Referer header.
 *
 * A route with inline script (the API docs page) sets its own policy with the script's hash;
 * the hook keeps a policy a route has set.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply } from 'fastify';

const BASE_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
];

export const CONTENT_SECURITY_POLICY = BASE_POLICY.join('; ');

/** The policy for a page whose only script is inline: allowed by its SHA-256 hash, nothing else. */
export function policyForInlineScript(script: string): string {
  const hash = createHash('sha256').update(script, 'utf8').digest('base64');
  return BASE_POLICY.map((d) => (d.startsWith('script-src') ? `script-src 'sha256-${hash}'` : d)).join('; ');
}

export function setSecurityHeaders(reply: FastifyReply): void {
  if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
  reply.header('x-frame-options', 'DENY');
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
}
