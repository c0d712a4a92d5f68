/**
 * The pricing MCP server over stdio. Register it (admins only) with
 * `{ "name": "pricing", "command": "npx", "args": ["tsx", "examples/mcp/stdio.ts"] }`.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createPricingServer } from './pricing-server.ts';

await createPricingServer().connect(new StdioServerTransport());
