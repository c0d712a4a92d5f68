/**
 * Starts every demo service on 127.0.0.1 with ephemeral ports: five A2A agents (streaming,
 * non-streaming, slow, input-required, v0.3) and the pricing MCP server; `price-analyst` and the
 * MCP server require a bearer token (registered through a secret). `trellis serve --demo`
 * registers them and seeds `examples/demo/*.json`, so a new user watches a real multi-agent run
 * without internet or API keys. The outbound guard must allow loopback (`LOOPBACK_ALLOW_HOSTS`).
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startConciergeAgent } from '../agents/concierge-agent.ts';
import { startHotelAgent } from '../agents/hotel-agent.ts';
import { startItineraryWriter } from '../agents/itinerary-writer.ts';
import { startLegacyReviewsAgent } from '../agents/legacy-agent.ts';
import { startPriceAnalyst } from '../agents/price-analyst.ts';
import { startSlowAgent } from '../agents/slow-agent.ts';
import { startPricingHttpServer } from '../mcp/http.ts';

export interface DemoServices {
  /**
   * Secrets to store before registering (global): `price-analyst` and the `pricing` MCP server
   * require a bearer token, fresh at every start, which the registrations reference as
   * `{{ $secrets.DEMO_SERVICE_TOKEN }}` — the demo's authenticated calls, offline.
   */
  secrets: { name: string; value: string; description: string }[];
  /** Agents to register by URL, under these names (the demo workflows use them); `credential` goes in the header the card's security scheme names. */
  agents: { name: string; url: string; credential?: string }[];
  /** MCP servers to register by URL, under these names, with these headers. */
  toolServers: { name: string; url: string; headers?: Record<string, string> }[];
  close(): Promise<void>;
}

/** The secret the demo's authenticated services are registered with. */
export const DEMO_TOKEN_SECRET = 'DEMO_SERVICE_TOKEN';

/** `authenticated: false` starts every service open (for tests of the registries that are not about authentication). */
export async function startDemoServices(options: { authenticated?: boolean } = {}): Promise<DemoServices> {
  const auth = options.authenticated !== false;
  const token = randomBytes(24).toString('base64url');
  const bearerToken = auth ? token : undefined;
  const running = await Promise.all([
    startHotelAgent(),
    startPriceAnalyst(undefined, { bearerToken }),
    startSlowAgent(),
    startConciergeAgent(),
    startLegacyReviewsAgent(),
    startItineraryWriter(),
  ]);
  const pricing = await startPricingHttpServer({ bearerToken });
  const ref = `{{ $secrets.${DEMO_TOKEN_SECRET} }}`;
  return {
    secrets: auth
      ? [
          {
            name: DEMO_TOKEN_SECRET,
            value: token,
            description: 'bearer token of the demo price-analyst agent and pricing MCP server',
          },
        ]
      : [],
    agents: running.map((a) => ({
      name: a.name,
      url: a.url,
      ...(auth && a.name === 'price-analyst' ? { credential: ref } : {}),
    })),
    toolServers: [{ name: pricing.name, url: pricing.url, ...(auth ? { headers: { Authorization: `Bearer ${ref}` } } : {}) }],
    close: async () => {
      await Promise.all([...running.map((a) => a.close()), pricing.close()]);
    },
  };
}

/** The demo workflows (`examples/demo/*.json`), parsed. */
export function demoWorkflows(): { file: string; definition: unknown }[] {
  const dir = import.meta.dirname;
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, definition: JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown }));
}
