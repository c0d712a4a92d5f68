/**
 * Webhook signatures: `X-Trellis-Signature: sha256=<hex HMAC-SHA256 of the raw body>`, keyed by the
 * trigger's secret, compared in constant time. The same scheme as GitHub's `X-Hub-Signature-256`,
 * so senders that sign that way need only the header's name changed.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-trellis-signature';
export const DELIVERY_HEADER = 'x-trellis-delivery';

/** A new webhook secret: 32 random bytes, prefixed so it is recognisable in a password manager. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** The header value a sender puts on `body`. */
export function signBody(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Whether `header` is a valid signature of `body` under `secret` (constant time in the digest). */
export function verifySignature(secret: string, body: Buffer, header: string | undefined): boolean {
  if (header === undefined) return false;
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!m) return false;
  const given = Buffer.from((m[1] as string).toLowerCase(), 'hex');
  const expected = createHmac('sha256', secret).update(body).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}
