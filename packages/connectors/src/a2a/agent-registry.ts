/**
 * The agent registry: agents registered by URL (the card is fetched through the outbound guard,
 * validated and stored with its hash), refreshed, deleted, listed and discovered by skill, tag
 * or text. It is also the resolver `agent_call` uses to turn a node's `agent` into a card.
 */
import { createHash } from 'node:crypto';
import type { AgentCard } from '@a2a-js/sdk';
import { TrellisError } from '@trellis/core';
import type { SecretSource } from '@trellis/runtime';
import type { AgentRecord, Database } from '@trellis/store';
import { deleteAgent, findAgentByUrl, getAgent, insertAgent, listAgents, updateAgentCard } from '@trellis/store';
import type { Kysely } from 'kysely';
import {
  checkHeaderTemplates,
  fetchWithHeaders,
  type HeaderTemplates,
  redacting,
  renderHeaders,
  SecretRedactor,
} from '../auth/headers.ts';
import { headersForCard } from '../auth/security-scheme.ts';
import { fetchAgentCard } from './transport.ts';

/** A node's `agent`: a registered agent's id or name, or `{ url }`. */
export type AgentRef = string | { url: string };

export interface ResolvedAgent {
  /** Registry id; undefined for an agent reached by `{ url }` only. */
  id: string | undefined;
  name: string;
  url: string;
  card: AgentCard;
  cardHash: string;
  /** Registration header templates (rendered by the executor at call time). */
  headers?: HeaderTemplates;
}

export interface AgentResolver {
  resolve(ref: AgentRef): Promise<ResolvedAgent>;
}

export interface SkillSummary {
  id: string;
  name: string;
  description: string;
  tags: string[];
}

/** The API shape of a registered agent (SPEC §6: `{ id, name, url, skills, card }`). */
export interface AgentInfo {
  id: string;
  name: string;
  url: string;
  description: string;
  skills: SkillSummary[];
  card: AgentCard;
  cardHash: string;
  /** Header templates sent on every request (`{{ $secrets.NAME }}` references, never values). */
  headers: HeaderTemplates;
  createdBy: string;
  createdAt: string;
  refreshedAt: string;
}

export interface AgentQuery {
  /** A skill id the agent must have. */
  skill?: string;
  /** A tag one of its skills must carry. */
  tag?: string;
  /** Free text matched against names, descriptions, skills and tags (case-insensitive). */
  q?: string;
}

export interface AgentRegistryOptions {
  db: Kysely<Database>;
  /** The outbound guard's fetch. */
  fetch: typeof fetch;
  /** How long a card fetched for a `{ url }` node is reused (default 60 s). */
  urlCardTtlMs?: number;
  /** Values for `{{ $secrets.NAME }}` in registration headers (global secrets only). */
  secrets?: SecretSource;
  /** Longest wait for one agent card (each URL tried; default 10 s, `TRELLIS_A2A_CARD_TIMEOUT_MS`). */
  cardTimeoutMs?: number;
}

export function cardHash(card: unknown): string {
  return createHash('sha256').update(canonicalJson(card)).digest('hex');
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export function skillsOf(card: AgentCard): SkillSummary[] {
  return (card.skills ?? []).map((s) => ({
    id: s.id,
    name: s.name ?? s.id,
    description: s.description ?? '',
    tags: s.tags ?? [],
  }));
}

function toInfo(r: AgentRecord): AgentInfo {
  const card = r.card as AgentCard;
  return {
    id: r.id,
    name: r.name,
    url: r.url,
    description: card.description ?? '',
    skills: skillsOf(card),
    card,
    cardHash: r.cardHash,
    headers: r.headers,
    createdBy: r.createdBy,
    createdAt: r.createdAt,
    refreshedAt: r.refreshedAt,
  };
}

function normaliseUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TrellisError(
      'INPUT_INVALID',
      `"${url}" is not a valid URL; give the agent's base URL, e.g. https://agent.example.com`,
      {
        category: 'user',
      },
    );
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new TrellisError('INPUT_INVALID', `agent URL must be http or https, got ${u.protocol}`, { category: 'user' });
  }
  return u.href.replace(/\/\.well-known\/agent-card\.json$/, '').replace(/\/+$/, '');
}

export class AgentRegistry implements AgentResolver {
  private readonly db: Kysely<Database>;
  private readonly fetchImpl: typeof fetch;
  private readonly ttl: number;
  private readonly secrets: SecretSource | undefined;
  private readonly cardTimeoutMs: number | undefined;
  /** Every secret value rendered into an agent's headers: hidden in whatever comes back. */
  readonly redactor = new SecretRedactor();
  private readonly urlCards = new Map<string, { at: number; agent: Promise<ResolvedAgent> }>();

  constructor(options: AgentRegistryOptions) {
    this.db = options.db;
    this.fetchImpl = options.fetch;
    this.ttl = options.urlCardTtlMs ?? 60_000;
    this.secrets = options.secrets;
    this.cardTimeoutMs = options.cardTimeoutMs;
  }

  /** The guard's fetch with `templates` rendered into every request. */
  private async fetchFor(templates: HeaderTemplates | undefined): Promise<typeof fetch> {
    return fetchWithHeaders(this.fetchImpl, await renderHeaders(templates, this.secrets, this.redactor));
  }

  /** Fetches the card at `<url>/.well-known/agent-card.json` and stores the agent. */
  /**
   * `headers`: sent on the card fetch and every call; values may hold `{{ $secrets.NAME }}`
   * (global secrets). `credential`: a value (usually `{{ $secrets.NAME }}`) put in the header
   * the agent card's security scheme names (`Authorization: Bearer …`, an API-key header).
   */
  async register(input: {
    url: string;
    name?: string;
    headers?: HeaderTemplates;
    credential?: string;
    createdBy: string;
  }): Promise<AgentInfo> {
    return redacting(this.redactor, () => this.registerUnredacted(input));
  }

  private async registerUnredacted(input: {
    url: string;
    name?: string;
    headers?: HeaderTemplates;
    credential?: string;
    createdBy: string;
  }): Promise<AgentInfo> {
    const given = checkHeaderTemplates(input.headers);
    if (input.credential !== undefined) checkHeaderTemplates({ credential: input.credential });
    const url = normaliseUrl(input.url);
    const existing = await findAgentByUrl(this.db, url);
    if (existing) {
      throw new TrellisError(
        'CONFLICT',
        `${url} is already registered as "${existing.name}" (${existing.id}); refresh it instead`,
        {
          category: 'user',
        },
      );
    }
    const card = await fetchAgentCard(url, await this.fetchFor(given), this.cardTimeoutMs);
    const headers = headersForCard(card, url, given, input.credential);
    await renderHeaders(headers, this.secrets, this.redactor); // every secret exists and is global
    const name = (input.name ?? card.name).trim();
    if (name === '') throw new TrellisError('INPUT_INVALID', 'the agent needs a name', { category: 'user' });
    const record = await insertAgent(this.db, {
      name,
      url,
      card,
      cardHash: cardHash(card),
      headers,
      createdBy: input.createdBy,
    });
    return toInfo(record);
  }

  /** Re-fetches the card; `changed` tells whether its hash moved. */
  async refresh(idOrName: string): Promise<{ agent: AgentInfo; changed: boolean }> {
    const current = await this.require(idOrName);
    const card = await redacting(this.redactor, async () =>
      fetchAgentCard(current.url, await this.fetchFor(current.headers), this.cardTimeoutMs),
    );
    const hash = cardHash(card);
    const updated = (await updateAgentCard(this.db, current.id, card, hash)) as AgentRecord;
    return { agent: toInfo(updated), changed: hash !== current.cardHash };
  }

  async delete(idOrName: string): Promise<boolean> {
    const current = await getAgent(this.db, idOrName);
    return current ? deleteAgent(this.db, current.id) : false;
  }

  async get(idOrName: string): Promise<AgentInfo | undefined> {
    const r = await getAgent(this.db, idOrName);
    return r ? toInfo(r) : undefined;
  }

  /** Lists agents, filtered by skill id, tag and text. */
  async list(query: AgentQuery = {}): Promise<AgentInfo[]> {
    const all = (await listAgents(this.db)).map(toInfo);
    const q = query.q?.trim().toLowerCase();
    const tag = query.tag?.trim().toLowerCase();
    return all.filter((a) => {
      if (query.skill && !a.skills.some((s) => s.id === query.skill)) return false;
      if (tag && !a.skills.some((s) => s.tags.some((t) => t.toLowerCase() === tag))) return false;
      if (q) {
        const hay = [a.name, a.description, ...a.skills.flatMap((s) => [s.id, s.name, s.description, ...s.tags])]
          .join('\n')
          .toLowerCase();
        if (!hay.includes(q)) return false;
      }
      return true;
    });
  }

  async resolve(ref: AgentRef): Promise<ResolvedAgent> {
    if (typeof ref === 'string') {
      const r = await this.require(ref);
      return { id: r.id, name: r.name, url: r.url, card: r.card as AgentCard, cardHash: r.cardHash, headers: r.headers };
    }
    const url = normaliseUrl(ref.url);
    const cached = this.urlCards.get(url);
    if (cached && Date.now() - cached.at < this.ttl) return cached.agent;
    const agent = fetchAgentCard(url, this.fetchImpl, this.cardTimeoutMs).then((card) => ({
      id: undefined,
      name: card.name || url,
      url,
      card,
      cardHash: cardHash(card),
    }));
    this.urlCards.set(url, { at: Date.now(), agent });
    agent.catch(() => this.urlCards.delete(url));
    return agent;
  }

  private async require(idOrName: string): Promise<AgentRecord> {
    const r = await getAgent(this.db, idOrName);
    if (!r) {
      throw new TrellisError(
        'AGENT_NOT_FOUND',
        `no agent "${idOrName}" is registered where this run executes; register it by its agent-card URL, or give the node's agent as { "url": … }`,
        {
          category: 'user',
        },
      );
    }
    return r;
  }
}
