/** API shape of "how to call a workflow" (its MCP tool, A2A agent and REST start URL). */
import { z } from 'zod';

export const callInfoSchema = z.object({
  workflowId: z.string(),
  canRun: z.boolean().describe('Whether the caller may run it (role runner or above): only then is it among their MCP tools.'),
  mcp: z.object({
    url: z.string().describe('The Streamable HTTP endpoint for MCP hosts.'),
    toolName: z.string().nullable().describe("The tool's name in the caller's MCP tool list; null when they may not run it."),
  }),
  a2a: z.object({
    cardUrl: z.string(),
    endpoint: z.string().describe('JSON-RPC: message/send, message/stream, tasks/get, tasks/cancel.'),
    indexCardUrl: z.string().describe("The instance's card listing every workflow the bearer may run."),
    protocolVersions: z.array(z.string()),
  }),
  rest: z.object({ runUrl: z.string() }),
});
export type CallInfo = z.infer<typeof callInfoSchema>;
