/**
 * How Trellis talks to A2A agents: the SDK's client, with every HTTP request going through the
 * outbound guard, and errors sorted into retryable (network, 5xx, 429) and not (protocol).
 */

import { createHash } from 'node:crypto';
import type { AgentCard } from '@a2a-js/sdk';
import {
  type Client,
  ClientFactory,
  ClientFactoryOptions,
  DefaultAgentCardResolver,
  JsonRpcTransportFactory,
  RestTransportFactory,
} from '@a2a-js/sdk/client';
import { TrellisError } from '@trellis/core';
import { parseRetryAfter } from '@trellis/runtime';
import { fetchWithHeaders } from '../auth/headers.ts';
import { lenientResponse } from './lenient-response.ts';
import { DEFAULT_A2A_LIMITS } from './limits.ts';

/**
 * Wraps a (guarded) fetch so that transport failures become TrellisErrors the runner can
 * classify: the SDK turns HTTP errors into plain `Error`s with only a message, but it calls
 * fetch without catching, so an error thrown here reaches the executor intact.
 */
export function classifyingFetch(base: typeof fetch, what: string): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    let res: Response;
    try {
      res = await base(input, init);
    } catch (err) {
      if (err instanceof TrellisError || (err as Error).name === 'AbortError') throw err;
      const cause = (err as Error).cause as Error | undefined;
      throw TrellisError.retryable('NETWORK_ERROR', `${what} could not be reached: ${cause?.message ?? (err as Error).message}`, {
        category: 'remote',
        cause: err,
      });
    }
    if (res.status >= 500 || res.status === 429) {
      const body = await res.text().catch(() => '');
      throw new TrellisError(`HTTP_${res.status}`, `${what} answered ${res.status}${body ? `: ${body.slice(0, 200)}` : ''}`, {
        category: 'remote',
        retryable: true,
        retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
      });
    }
    return lenientResponse(res);
  }) as typeof fetch;
}

/** How long fetching an agent card may take before registration fails with a clear error (default; `TRELLIS_A2A_CARD_TIMEOUT_MS`). */
export const AGENT_CARD_TIMEOUT_MS = DEFAULT_A2A_LIMITS.cardTimeoutMs;

/**
 * Where an agent's card may be, for the URL a user gave. A URL whose path ends in `.json` is the
 * card itself. Any other URL is a base: its own well-known card (`agent-card.json`, then the
 * pre-0.3 `agent.json`), then — for an agent that lives under a path, such as Mastra's
 * `/a2a/<agentId>` — the origin's `/.well-known/<last segment>/agent-card.json`, then the
 * origin's own card. Only candidates on the URL's origin are tried.
 */
export function cardCandidates(url: string): string[] {
  const u = new URL(url);
  if (/\.json$/i.test(u.pathname)) return [u.href];
  const base = u.href.replace(/[?#].*$/, '').replace(/\/+$/, '');
  const out = [`${base}/.well-known/agent-card.json`, `${base}/.well-known/agent.json`];
  const segments = u.pathname.split('/').filter(Boolean);
  const last = segments[segments.length - 1];
  if (last) {
    out.push(`${u.origin}/.well-known/${last}/agent-card.json`);
    out.push(`${u.origin}/.well-known/agent-card.json`);
  }
  return [...new Set(out)];
}

/**
 * Fetches and normalises an agent card (v1.0 or v0.3) for `url`, trying `cardCandidates(url)`
 * in order: a candidate that answers an HTTP error or something other than JSON passes to the next; a network error or
 * 5xx stops at once. The card's relative interface URLs are resolved against where it was found.
 */
export async function fetchAgentCard(
  url: string,
  fetchImpl: typeof fetch,
  timeoutMs: number = AGENT_CARD_TIMEOUT_MS,
): Promise<AgentCard> {
  // (registration headers, when any, are already in `fetchImpl`: see fetchWithHeaders)
  // A server that accepts the connection but never answers must not hold a registration open.
  const timed: typeof fetch = (input, init) =>
    fetchImpl(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(timeoutMs) });
  const resolver = new DefaultAgentCardResolver({ fetchImpl: classifyingFetch(timed, url), legacyCompat: { enabled: true } });
  const candidates = cardCandidates(url);
  const misses: string[] = [];
  for (const cardUrl of candidates) {
    let card: AgentCard;
    try {
      // The full URL as the path: resolving a relative one would drop the base's last segment.
      card = await resolver.resolve(cardUrl, '');
    } catch (err) {
      if (err instanceof TrellisError) throw err;
      misses.push(`${cardUrl} (${(err as Error).message.replace(/^Failed to fetch Agent Card from \S+: /, 'HTTP ')})`);
      continue;
    }
    card = withoutSelfReference(withAbsoluteInterfaces(card, cardUrl), cardUrl, url);
    // A JSON document where a card should be is taken as the card: if it is not a valid one, say so.
    validateCard(card, cardUrl);
    return card;
  }
  throw new TrellisError(
    'AGENT_ERROR',
    candidates.length === 1
      ? `cannot read the agent card at ${misses[0] ?? url}`
      : `no agent card found for ${url}; tried ${misses.join(', ')}. Give the card's own URL if it is elsewhere`,
    { category: 'remote' },
  );
}

/**
 * Some agents (Mastra's, for one) name their interfaces by a path (`/a2a/greeter`). A URL
 * reference in a document is read against the document's own URL, so a relative interface is
 * resolved against the card's URL (same origin, so the outbound guard's verdict carries over);
 * absolute ones are left alone, and one that does not parse even then stays as it is and fails
 * as before.
 */
export function withAbsoluteInterfaces(card: AgentCard, cardUrl: string): AgentCard {
  if (!card || typeof card !== 'object' || !Array.isArray(card.supportedInterfaces)) return card;
  const absolute = (u: unknown): unknown => {
    if (typeof u !== 'string' || /^[a-z][a-z0-9+.-]*:/i.test(u)) return u;
    try {
      return new URL(u, cardUrl).href;
    } catch {
      return u;
    }
  };
  return {
    ...card,
    supportedInterfaces: card.supportedInterfaces.map((i) =>
      i && typeof i === 'object' ? { ...i, url: absolute(i.url) as string } : i,
    ),
  };
}

/**
 * VoltAgent 1.x's A2A server names the card's own path (`/.well-known/<id>/agent-card.json`) as
 * the agent's interface URL. A card is a document, not an endpoint, so that URL cannot be meant:
 * when the user registered the agent by its endpoint URL (a base, e.g. `http://host/a2a/greeter`,
 * where the card was found), that URL is used instead — it is on the card's origin, so the
 * outbound guard's verdict carries over. Registered by the card's URL there is nothing to go on:
 * refused, saying what to register instead.
 */
export function withoutSelfReference(card: AgentCard, cardUrl: string, given: string): AgentCard {
  if (!card || typeof card !== 'object' || !Array.isArray(card.supportedInterfaces)) return card;
  const isSelf = (u: unknown) => typeof u === 'string' && sameUrl(u, cardUrl);
  if (!card.supportedInterfaces.some((i) => isSelf(i?.url))) return card;
  const base = new URL(given);
  if (/\.json$/i.test(base.pathname)) {
    throw new TrellisError(
      'AGENT_ERROR',
      `the agent card at ${cardUrl} names its own URL as the address to send messages to (a card is not an endpoint). Register the agent by the URL it takes messages at instead (VoltAgent 1.x: ${base.origin}/a2a/<agent id>): Trellis then finds this card and sends to that URL`,
      { category: 'remote' },
    );
  }
  const endpoint = base.href.replace(/[?#].*$/, '').replace(/\/+$/, '');
  return {
    ...card,
    supportedInterfaces: card.supportedInterfaces.map((i) => (isSelf(i?.url) ? { ...i, url: endpoint } : i)),
  };
}

function sameUrl(a: string, b: string): boolean {
  try {
    const strip = (u: string) => new URL(u).href.replace(/[?#].*$/, '').replace(/\/+$/, '');
    return strip(a) === strip(b);
  } catch {
    return false;
  }
}

function validateCard(card: AgentCard, url: string): void {
  const problems: string[] = [];
  if (!card || typeof card !== 'object') problems.push('it is not a JSON object');
  else {
    if (!card.name) problems.push('"name" is missing');
    if (!Array.isArray(card.supportedInterfaces) || card.supportedInterfaces.length === 0)
      problems.push('it declares no interface (supportedInterfaces / url)');
    if (!Array.isArray(card.skills)) problems.push('"skills" is missing');
    else if (card.skills.some((s) => !s.id)) problems.push('a skill has no "id"');
  }
  if (problems.length > 0) {
    throw new TrellisError('AGENT_ERROR', `the agent card at ${url} is invalid: ${problems.join('; ')}`, { category: 'remote' });
  }
}

/** Builds SDK clients that reach agents only through `fetchImpl`; one per card, reused. */
export class A2AClientPool {
  private readonly clients = new Map<string, Promise<Client>>();
  private readonly factory: ClientFactory;

  constructor(private readonly fetchImpl: typeof fetch) {
    this.factory = A2AClientPool.factoryFor(fetchImpl);
  }

  private static factoryFor(fetchImpl: typeof fetch): ClientFactory {
    const f = classifyingFetch(fetchImpl, 'the agent');
    return new ClientFactory(
      ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
        cardResolver: new DefaultAgentCardResolver({ fetchImpl: f, legacyCompat: { enabled: true } }),
        transports: [
          new JsonRpcTransportFactory({ fetchImpl: f, legacyCompat: { enabled: true } }),
          new RestTransportFactory({ fetchImpl: f, legacyCompat: { enabled: true } }),
        ],
      }),
    );
  }

  /**
   * The client for an agent. `headers` (rendered registration headers) go on every request; a
   * client is kept per key and headers, so a replaced secret gets a fresh client.
   */
  get(key: string, card: AgentCard, headers: Record<string, string> = {}): Promise<Client> {
    const withHeaders = Object.keys(headers).length > 0;
    const k = withHeaders ? `${key}#${createHash('sha256').update(JSON.stringify(headers)).digest('hex')}` : key;
    let client = this.clients.get(k);
    if (!client) {
      const factory = withHeaders ? A2AClientPool.factoryFor(fetchWithHeaders(this.fetchImpl, headers)) : this.factory;
      client = factory.createFromAgentCard(card);
      const created = client;
      client.catch(() => this.clients.delete(k));
      this.clients.set(k, created);
      if (this.clients.size > 1000) this.clients.delete(this.clients.keys().next().value as string);
      return created;
    }
    return client;
  }
}

/** Sorts an error from the SDK: ours pass through, aborts stay aborts, the rest are protocol errors. */
export function toAgentError(err: unknown, agentName: string): unknown {
  let e: unknown = err;
  for (let i = 0; i < 5 && e instanceof Error; i++) {
    if (e instanceof TrellisError) return e;
    e = e.cause;
  }
  if (err instanceof Error && err.name === 'AbortError') return err;
  const message = err instanceof Error ? err.message : String(err);
  const deviation = protocolDeviation(message);
  if (deviation) return new TrellisError('AGENT_ERROR', `agent ${agentName} ${deviation}`, { category: 'remote', cause: err });
  return new TrellisError('AGENT_ERROR', `agent ${agentName}: ${message}`, { category: 'remote', cause: err });
}

/**
 * Replies Trellis refuses because the agent breaks the protocol where it leaves no room, told
 * as the agent's deviation (not retryable: asking again gets the same answer).
 * - A JSON-RPC response whose `id` is not the request's: JSON-RPC 2.0 requires the same id, and
 *   a reply that cannot be matched to its request is not taken as its answer (it could be
 *   another request's, e.g. through a proxy that mixes up connections).
 */
function protocolDeviation(message: string): string | undefined {
  const id = /JSON-RPC response ID mismatch(?: for method (\S+)| in SSE event)\. Expected (.*), got (.*)\.$/.exec(message);
  if (id) {
    return `does not follow JSON-RPC 2.0: it answered ${id[1] ? `${id[1]} ` : 'a stream '}request id ${id[2]} with id ${id[3]}. Trellis refuses a reply whose id is not the request's (it cannot tell that the reply answers this request); the agent must echo the request's id`;
  }
  return undefined;
}
