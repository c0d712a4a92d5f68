/**
 * What an agent card says about authentication, and which header a credential goes in. Cards
 * come in three spellings: A2A 1.0 as the SDK parses it (`scheme: { $case, value }`), A2A 1.0
 * JSON (`{ httpAuthSecurityScheme: { scheme } }`) and A2A 0.3 / OpenAPI (`{ type: 'http', scheme }`).
 */
import { TrellisError } from '@trellis/core';
import type { HeaderTemplates } from './headers.ts';

export type CardScheme =
  | { name: string; kind: 'http'; scheme: string }
  | { name: string; kind: 'apiKey'; in: string; header: string }
  | { name: string; kind: 'other'; type: string };

function describe(name: string, s: unknown): CardScheme {
  const o = (s ?? {}) as Record<string, unknown>;
  const inner =
    o.scheme && typeof o.scheme === 'object' ? (o.scheme as { $case?: string; value?: Record<string, unknown> }) : undefined;
  const http =
    (inner?.$case === 'httpAuthSecurityScheme' ? inner.value : undefined) ??
    (o.httpAuthSecurityScheme as Record<string, unknown> | undefined) ??
    (o.type === 'http' ? o : undefined);
  if (http) return { name, kind: 'http', scheme: String(http.scheme ?? 'bearer') };
  const key =
    (inner?.$case === 'apiKeySecurityScheme' ? inner.value : undefined) ??
    (o.apiKeySecurityScheme as Record<string, unknown> | undefined) ??
    (o.type === 'apiKey' ? o : undefined);
  if (key) return { name, kind: 'apiKey', in: String(key.location ?? key.in ?? 'header'), header: String(key.name ?? '') };
  return { name, kind: 'other', type: inner?.$case ?? String(o.type ?? Object.keys(o)[0] ?? 'unknown') };
}

/** The schemes a card declares, by name. */
export function cardSchemes(card: unknown): CardScheme[] {
  const schemes = (card as { securitySchemes?: Record<string, unknown> } | undefined)?.securitySchemes;
  if (!schemes || typeof schemes !== 'object') return [];
  return Object.entries(schemes).map(([name, s]) => describe(name, s));
}

/** The header a scheme puts a credential in, and how (`Bearer <credential>`). */
export function headerFor(scheme: CardScheme, credential: string): [string, string] | undefined {
  if (scheme.kind === 'http') {
    const word =
      scheme.scheme.toLowerCase() === 'basic' ? 'Basic' : scheme.scheme.toLowerCase() === 'bearer' ? 'Bearer' : scheme.scheme;
    return ['Authorization', `${word} ${credential}`];
  }
  if (scheme.kind === 'apiKey' && scheme.in === 'header' && scheme.header) return [scheme.header, credential];
  return undefined;
}

/**
 * The headers to register: explicit `headers`, plus — when a `credential` is given — the header
 * the card's first usable scheme names. A card that declares schemes none of which the headers
 * satisfy is refused with a message naming the header to add.
 */
export function headersForCard(
  card: unknown,
  agentUrl: string,
  headers: HeaderTemplates,
  credential: string | undefined,
): HeaderTemplates {
  const schemes = cardSchemes(card);
  const out: HeaderTemplates = { ...headers };
  const has = (h: string) => Object.keys(out).some((k) => k.toLowerCase() === h.toLowerCase());
  if (credential !== undefined) {
    const usable = schemes.map((s) => headerFor(s, credential)).find((h) => h !== undefined);
    if (!usable) {
      throw new TrellisError(
        'INPUT_INVALID',
        schemes.length === 0
          ? `the agent card at ${agentUrl} declares no security scheme, so Trellis cannot tell which header the credential goes in; give "headers" instead`
          : `the agent card at ${agentUrl} declares ${schemes.map((s) => `${s.name} (${s.kind})`).join(', ')}: none takes a header credential; give "headers" instead`,
        { category: 'user' },
      );
    }
    if (!has(usable[0])) out[usable[0]] = usable[1];
  }
  if (schemes.length === 0) return out;
  const satisfied = schemes.some((s) => {
    const h = headerFor(s, '');
    return h !== undefined && has(h[0]);
  });
  if (!satisfied) {
    const first = schemes.map((s) => headerFor(s, '{{ $secrets.NAME }}')).find((h) => h !== undefined);
    throw new TrellisError(
      'INPUT_INVALID',
      `the agent at ${agentUrl} requires authentication (${schemes.map((s) => (s.kind === 'http' ? `${s.name}: HTTP ${s.scheme}` : s.kind === 'apiKey' ? `${s.name}: API key in ${s.in} ${s.header}` : `${s.name}: ${s.type}`)).join('; ')}); register it with "credential": "{{ $secrets.NAME }}"${first ? ` or "headers": { "${first[0]}": "${first[1]}" }` : ''}`,
      { category: 'user' },
    );
  }
  return out;
}
