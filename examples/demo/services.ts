/**
 * Starts every demo service on 127.0.0.1 with ephemeral ports: five A2A agents (streaming,
 * non-streaming, slow, input-required, v0.3) and the pricing MCP server. `trellis serve --demo`
 * registers them and seeds `examples/demo/*.json`, so a new user watches a real multi-agent run
 * without internet or API keys. The outbound guard must allow loopback (`LOOPBACK_ALLOW_HOSTS`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startConciergeAgent } from '../agents/concierge-agent.ts';
import { startHotelAgent } from '../agents/hotel-agent.ts';
import { startLegacyReviewsAgent } from '../agents/legacy-agent.ts';
import { startPriceAnalyst } from '../agents/price-analyst.ts';
import { startSlowAgent } from '../agents/slow-agent.ts';
import { startPricingHttpServer } from '../mcp/http.ts';

export interface DemoServices {
  /** Agents to register by URL, under these names (the demo workflows use them). */
  agents: { name: string; url: string }[];
  /** MCP servers to register by URL, under these names. */
  toolServers: { name: string; url: string }[];
  close(): Promise<void>;
}

export async function startDemoServices(): Promise<DemoServices> {
  const running = await Promise.all([
    startHotelAgent(),
    startPriceAnalyst(),
    startSlowAgent(),
    startConciergeAgent(),
    startLegacyReviewsAgent(),
  ]);
  const pricing = await startPricingHttpServer();
  return {
    agents: running.map((a) => ({ name: a.name, url: a.url })),
    toolServers: [{ name: pricing.name, url: pricing.url }],
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
