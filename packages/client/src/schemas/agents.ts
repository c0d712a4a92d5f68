/** API shapes of the agent registry (SPEC §6: `{ id, name, url, skills, card }`). */
import { z } from 'zod';

/** Registration headers: values may hold `{{ $secrets.NAME }}` (global secrets), resolved per request, stored unresolved. */
export const registrationHeaders = z
  .record(z.string().min(1).max(100), z.string().max(8192))
  .optional()
  .describe(
    'Headers sent on the agent-card fetch and every call (A2A) or on every request of the connection (MCP). Values may hold `{{ $secrets.NAME }}` references to global secrets, e.g. `{ "Authorization": "Bearer {{ $secrets.AGENT_TOKEN }}" }`.',
  );

export const skillSchema = z.object({
  id: z.string(),
  name: z.string().describe("The skill's display name (its id when the card gives none)."),
  description: z.string(),
  tags: z.array(z.string()),
});

export const agentSchema = z.object({
  id: z.string(),
  name: z.string().describe('Unique; a node may name the agent by it.'),
  url: z.string().describe("The agent's base URL (its card is at <url>/.well-known/agent-card.json)."),
  description: z.string(),
  skills: z.array(skillSchema),
  card: z.record(z.string(), z.unknown()).describe('The A2A agent card as fetched (normalised to A2A 1.0).'),
  cardHash: z.string().describe('SHA-256 of the canonical card; changes when the agent changes its card.'),
  headers: z
    .record(z.string(), z.string())
    .describe('Headers sent on every request to the agent, as registered: `{{ $secrets.NAME }}` references, never values.'),
  createdBy: z.string(),
  createdAt: z.string(),
  refreshedAt: z.string(),
});

export const agentListSchema = z.object({ items: z.array(agentSchema) });

export const refreshedAgentSchema = agentSchema.extend({
  changed: z.boolean().describe('True when the card differs from the one stored before.'),
});

/** Empty values mean "no filter", so a form can send every field. */
export const agentQuery = z.object({
  skill: z.string().max(200).optional().describe('A skill id the agent must have.'),
  tag: z.string().max(200).optional().describe('A tag one of its skills must carry (case-insensitive).'),
  q: z.string().max(200).optional().describe('Text matched against names, descriptions, skills and tags.'),
});

export const registerAgentBody = z
  .object({
    url: z.string().max(2000).url().describe("The agent's base URL, or its agent-card URL (…/.well-known/agent-card.json)."),
    name: z.string().trim().min(1).max(100).optional().describe("Default: the card's name."),
    headers: registrationHeaders,
    credential: z
      .string()
      .min(1)
      .max(8192)
      .optional()
      .describe(
        "A credential, usually `{{ $secrets.NAME }}`, put in the header the agent card's security scheme names (HTTP Bearer/Basic → Authorization, API key → its header).",
      ),
  })
  .strict();
