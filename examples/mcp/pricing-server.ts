/**
 * A small MCP server with a few pricing tools, used by the demo workflows and the tests.
 * `createPricingServer()` builds the server; `http.ts` serves it over Streamable HTTP and
 * `stdio.ts` over stdio. All data is canned, so it works offline.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

/** Calls of the `sleep` tool that the client cancelled (observable by in-process tests). */
export const cancelledSleeps: number[] = [];

/**
 * The W3C trace context (`_meta.traceparent`) of each tool call that carried one (tool name,
 * header), in arrival order (observable by in-process tests). Kept to the last 1,000.
 */
export const receivedTraceparents: { tool: string; traceparent: string }[] = [];

function noteTrace(tool: string, extra: { _meta?: Record<string, unknown> }): void {
  const tp = extra._meta?.traceparent;
  if (typeof tp !== 'string') return;
  receivedTraceparents.push({ tool, traceparent: tp });
  if (receivedTraceparents.length > 1000) receivedTraceparents.shift();
}

const RATES: Record<string, number> = { EUR: 1, USD: 1.08, GBP: 0.85, JPY: 162 };

const hotel = z.object({ name: z.string(), price: z.number() }).passthrough();

export function createPricingServer(): McpServer {
  const server = new McpServer({ name: 'pricing', version: '1.0.0' });

  server.registerTool(
    'filter',
    {
      description: 'Keeps the hotels at or under max_price, cheapest first',
      inputSchema: { hotels: z.array(hotel), max_price: z.number().min(0) },
      outputSchema: { filtered: z.array(hotel), count: z.number() },
    },
    async ({ hotels, max_price }, extra) => {
      noteTrace('filter', extra);
      const filtered = hotels.filter((h) => h.price <= max_price).sort((a, b) => a.price - b.price);
      const result = { filtered, count: filtered.length };
      return { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: result };
    },
  );

  server.registerTool(
    'convert',
    {
      description: 'Converts an amount between EUR, USD, GBP and JPY (fixed demo rates)',
      inputSchema: {
        amount: z.number(),
        from: z.enum(['EUR', 'USD', 'GBP', 'JPY']),
        to: z.enum(['EUR', 'USD', 'GBP', 'JPY']),
      },
    },
    async ({ amount, from, to }, extra) => {
      noteTrace('convert', extra);
      const value = Math.round((amount / (RATES[from] ?? 1)) * (RATES[to] ?? 1) * 100) / 100;
      // No structuredContent: the client parses the JSON text.
      return { content: [{ type: 'text', text: JSON.stringify({ amount: value, currency: to }) }] };
    },
  );

  server.registerTool(
    'quote',
    { description: 'Answers in plain text (no JSON)', inputSchema: { hotel: z.string() } },
    async ({ hotel: name }) => ({ content: [{ type: 'text', text: `A fine choice: ${name}` }] }),
  );

  server.registerTool(
    'fail',
    { description: 'Always reports a tool error (isError)', inputSchema: { reason: z.string().optional() } },
    async ({ reason }) => ({
      isError: true,
      content: [{ type: 'text', text: `pricing backend refused: ${reason ?? 'no reason'}` }],
    }),
  );

  server.registerTool(
    'sleep',
    { description: 'Waits ms milliseconds; honours cancellation', inputSchema: { ms: z.number().int().min(0).max(60_000) } },
    async ({ ms }, extra) => {
      const ok = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(true), ms);
        extra.signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve(false);
        });
      });
      if (!ok) cancelledSleeps.push(ms);
      return { content: [{ type: 'text', text: JSON.stringify({ slept: ms }) }], structuredContent: { slept: ms } };
    },
  );

  return server;
}
