/**
 * Trellis as an MCP server: `POST/GET/DELETE /mcp`, Streamable HTTP, with the official
 * `@modelcontextprotocol/sdk` server.
 *
 * Every request carries a bearer token, as the API does, and is authenticated afresh (a revoked
 * token stops working at once). A session belongs to the principal that opened it: another
 * principal presenting its session id is refused. The tool list is per principal — one tool per
 * workflow the principal may run, plus the run lifecycle tools — and each session checks every
 * few seconds whether that list changed (a workflow saved or deleted, a permission granted or
 * taken away) and then sends `notifications/tools/list_changed`. Calls re-check the permission.
 */
import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, isInitializeRequest, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate } from '../http/auth.ts';
import type { ServerContext } from '../http/context.ts';
import { incomingTraceParent } from '../http/trace-context.ts';
import { LIFECYCLE_TOOLS, workflowTools } from './catalog.ts';
import { callLifecycleTool, callWorkflowTool, LIFECYCLE_DEFINITIONS } from './tools.ts';

export interface McpOptions {
  /** How long a tool call waits for its run (TRELLIS_MCP_WAIT_MS, default 60 s). */
  waitMs: number;
  /** How often each session checks whether its tool list changed (default 5 s). */
  listCheckMs?: number;
  /** Sessions idle longer than this are closed (default 30 min). */
  idleMs?: number;
  /** Open sessions per principal (default 100; 429 beyond). */
  sessionsPerPrincipal?: number;
  version: string;
}

interface Session {
  id: string;
  principal: { name: string; isAdmin: boolean };
  transport: StreamableHTTPServerTransport;
  server: Server;
  toolsKey: string | undefined;
  lastSeen: number;
  timer: NodeJS.Timeout;
}

export const MCP_PATH = '/mcp';

function jsonRpcError(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply
    .code(status)
    .type('application/json')
    .send({ jsonrpc: '2.0', error: { code: status === 404 ? -32001 : -32000, message }, id: null });
}

export function mcpRoutes(app: FastifyInstance, ctx: ServerContext, options: McpOptions): { close(): Promise<void> } {
  const sessions = new Map<string, Session>();
  const listCheckMs = options.listCheckMs ?? 5_000;
  const idleMs = options.idleMs ?? 30 * 60_000;
  const perPrincipal = options.sessionsPerPrincipal ?? 100;

  const consoleBase = (req: FastifyRequest) =>
    (ctx.baseUrl ?? `${req.protocol}://${req.headers.host ?? '127.0.0.1'}`).replace(/\/$/, '');

  async function toolsKeyOf(principal: Session['principal']): Promise<string> {
    return (await workflowTools(ctx, principal)).map((t) => `${t.name}@${t.workflowId}:${t.version}`).join(',');
  }

  function closeSession(s: Session): void {
    if (!sessions.delete(s.id)) return;
    clearInterval(s.timer);
    void s.transport.close().catch(() => {});
    void s.server.close().catch(() => {});
  }

  function openSession(principal: Session['principal'], req: FastifyRequest): Session {
    const server = new Server(
      { name: 'trellis', version: options.version },
      {
        capabilities: { tools: { listChanged: true } },
        instructions:
          'Each tool runs a Trellis workflow and returns its output. Long runs return { runId, status }: follow them with trellis_await_run. ' +
          'A run that waits for a person returns the question and a console link; it is never approved on your behalf.',
      },
    );
    let session: Session | undefined;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        if (!session) return;
        session.id = id;
        sessions.set(id, session);
      },
    });
    transport.onclose = () => {
      if (session) closeSession(session);
    };
    const base = consoleBase(req);
    server.setRequestHandler(ListToolsRequestSchema, async () => {
      const tools = await workflowTools(ctx, principal);
      if (session) session.toolsKey = tools.map((t) => `${t.name}@${t.workflowId}:${t.version}`).join(',');
      return {
        tools: [
          ...tools.map((t) => ({ name: t.name, title: t.title, description: t.description, inputSchema: t.inputSchema })),
          ...LIFECYCLE_DEFINITIONS.map((d) => ({ ...d, inputSchema: d.inputSchema as Record<string, unknown> })),
        ] as never,
      };
    });
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      const name = request.params.name;
      const progressToken = request.params._meta?.progressToken;
      const traceParent =
        incomingTraceParent(request.params._meta?.traceparent) ?? incomingTraceParent(extra.requestInfo?.headers.traceparent);
      const call = {
        ...(traceParent === undefined ? {} : { traceParent }),
        ctx,
        principal,
        consoleBase: base,
        waitMs: options.waitMs,
        signal: extra.signal,
        ...(progressToken !== undefined
          ? {
              progress: (progress: number, total: number, message: string) =>
                extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress, total, message } }),
            }
          : {}),
      };
      if ((LIFECYCLE_TOOLS as readonly string[]).includes(name)) return callLifecycleTool(call, name, request.params.arguments);
      // The permission is checked again at call time: the list the client holds may be stale.
      const tool = (await workflowTools(ctx, principal)).find((t) => t.name === name);
      if (!tool)
        return {
          content: [{ type: 'text', text: `no tool '${name}' for '${principal.name}': list the tools again` }],
          isError: true,
        };
      return callWorkflowTool(call, tool, request.params.arguments);
    });
    session = {
      id: '',
      principal,
      transport,
      server,
      toolsKey: undefined,
      lastSeen: Date.now(),
      timer: setInterval(() => {
        const s = session;
        if (!s?.id) return;
        if (Date.now() - s.lastSeen > idleMs) return closeSession(s);
        if (s.toolsKey === undefined) return;
        void toolsKeyOf(principal)
          .then(async (key) => {
            if (key !== s.toolsKey) {
              s.toolsKey = key;
              await server.sendToolListChanged();
            }
          })
          .catch(() => {});
      }, listCheckMs),
    };
    session.timer.unref();
    return session;
  }

  // Authenticated before the body is read or parsed, like every API route (see http/route.ts).
  const principals = new WeakMap<FastifyRequest, Awaited<ReturnType<typeof authenticate>>>();
  const onRequest = async (req: FastifyRequest) => {
    principals.set(req, await authenticate(req, ctx, { query: false }));
  };
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const principal = principals.get(req);
    if (!principal) throw new Error('MCP route: the caller was not authenticated');
    const header = req.headers['mcp-session-id'];
    const sid = Array.isArray(header) ? header[0] : header;
    let session: Session | undefined;
    if (sid !== undefined) {
      session = sessions.get(sid);
      if (!session) return jsonRpcError(reply, 404, 'no such MCP session (it ended or the server restarted): initialize again');
      if (session.principal.name !== principal.name)
        return jsonRpcError(reply, 403, 'this MCP session belongs to another principal');
      session.lastSeen = Date.now();
    } else if (req.method === 'POST' && isInitializeRequest(req.body)) {
      const open = [...sessions.values()].filter((s) => s.principal.name === principal.name).length;
      if (open >= perPrincipal)
        return jsonRpcError(reply, 429, `'${principal.name}' has ${open} open MCP sessions; close some (DELETE /mcp) first`);
      session = openSession({ name: principal.name, isAdmin: principal.isAdmin }, req);
      await session.server.connect(session.transport);
    } else {
      return jsonRpcError(reply, 400, 'send an initialize request first (no Mcp-Session-Id header)');
    }
    // Admin rights follow the token presented now, not the one that opened the session.
    session.principal.isAdmin = principal.isAdmin;
    reply.hijack();
    await session.transport.handleRequest(req.raw, reply.raw, req.body);
  };

  for (const method of ['POST', 'GET', 'DELETE'] as const) app.route({ method, url: MCP_PATH, onRequest, handler });

  return {
    async close() {
      for (const s of [...sessions.values()]) closeSession(s);
    },
  };
}
