/**
 * How to call a workflow from outside: its MCP tool (name as the caller's MCP session lists it,
 * and the `/mcp` URL) and its A2A agent (card URL, JSON-RPC endpoint, the instance's index card),
 * plus the REST start URL. The console's "How to call it" panel builds its snippets from this.
 */
import { A2A_PROTOCOL_VERSION, AGENT_CARD_PATH } from '@a2a-js/sdk';
import { callInfoSchema, idParams } from '@trellis/client/schemas';
import { roleAtLeast } from '@trellis/store';
import type { Api } from '../http/route.ts';
import { workflowTools } from '../mcp/catalog.ts';

export function callInfoRoutes(api: Api): void {
  const { ctx } = api;
  api.route({
    method: 'GET',
    path: '/workflows/:id/call',
    operationId: 'workflowCallInfo',
    summary: 'How to call the workflow from outside: its MCP tool name and URL, its A2A card and endpoint',
    tags: ['workflows'],
    access: { kind: 'workflow', role: 'viewer', workflowId: ({ params }) => params.id },
    params: idParams,
    responses: { 200: { description: 'where and how to call it', schema: callInfoSchema } },
    handler: async ({ workflow, principal, role, req }) => {
      const id = workflow!.id;
      const base = (ctx.baseUrl ?? `${req.protocol}://${req.headers.host ?? '127.0.0.1'}`).replace(/\/$/, '');
      const canRun = principal.isAdmin || roleAtLeast(role, 'runner');
      const tool = canRun ? (await workflowTools(ctx, principal)).find((t) => t.workflowId === id) : undefined;
      const agent = `${base}/a2a/workflows/${encodeURIComponent(id)}`;
      return {
        workflowId: id,
        canRun,
        mcp: { url: `${base}/mcp`, toolName: tool?.name ?? null },
        a2a: {
          cardUrl: `${agent}/${AGENT_CARD_PATH}`,
          endpoint: agent,
          indexCardUrl: `${base}/${AGENT_CARD_PATH}`,
          protocolVersions: [A2A_PROTOCOL_VERSION, '0.3'],
        },
        rest: { runUrl: `${base}/api/v1/workflows/${encodeURIComponent(id)}/run` },
      };
    },
  });
}
