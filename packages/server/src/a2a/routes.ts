/**
 * Every workflow as an A2A agent (official `@a2a-js/sdk` server, protocol 1.0, also answering 0.3
 * JSON-RPC through the SDK's compatibility layer):
 *
 * - `GET  /a2a/workflows/:id/.well-known/agent-card.json` — the card (skill = the workflow; security
 *   scheme: HTTP bearer). Needs a token with the `viewer` role on the workflow.
 * - `POST /a2a/workflows/:id` — JSON-RPC (`SendMessage`/`message/send`, streaming, `GetTask`,
 *   `CancelTask`, resubscribe). Needs the `runner` role.
 * - `GET  /.well-known/agent-card.json` — an index card: the workflows the bearer may run, as skills.
 *
 * The SDK's Express handler does the protocol work; these Fastify routes authenticate and authorise
 * first, then hand the raw request to it (in a plugin whose body parser leaves the stream unread).
 * Tasks are kept in the database (`a2a_tasks`) and follow their runs, so they outlive a restart.
 */
import { A2A_PROTOCOL_VERSION, AGENT_CARD_PATH, type AgentCard } from '@a2a-js/sdk';
import { jsonRpcHandler } from '@a2a-js/sdk/server/express';
import { getRole, getVersion, getWorkflow, type Role, roleAtLeast, runnableWorkflows } from '@trellis/store';
import express from 'express';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate } from '../http/auth.ts';
import type { ServerContext } from '../http/context.ts';
import { HttpProblem } from '../http/problem.ts';
import { incomingTraceParent } from '../http/trace-context.ts';
import { WorkflowAgentExecutor } from './executor.ts';
import { WorkflowRequestHandler } from './request-handler.ts';
import { WorkflowTaskStore } from './task-store.ts';

interface Agent {
  card: AgentCard;
  app: express.Express;
  /** The workflow version and URL the card was made for. */
  madeFor: string;
}

const PRINCIPAL = Symbol('trellis.principal');

function baseOf(ctx: ServerContext, req: FastifyRequest): string {
  return (ctx.baseUrl ?? `${req.protocol}://${req.headers.host ?? '127.0.0.1'}`).replace(/\/$/, '');
}

function cardFor(w: { id: string; name: string; description: string | null }, definition: unknown, url: string): AgentCard {
  const schema = (definition as { inputSchema?: unknown } | null)?.inputSchema;
  return {
    name: w.name,
    description: w.description ?? `The Trellis workflow "${w.name}"`,
    supportedInterfaces: [
      { url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: A2A_PROTOCOL_VERSION },
      { url, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '0.3' },
    ],
    provider: { organization: 'Trellis', url: 'https://github.com/trellis-dev/trellis' },
    version: '1.0.0',
    capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: {
      bearer: {
        scheme: {
          $case: 'httpAuthSecurityScheme',
          value: { scheme: 'Bearer', description: 'a Trellis API token', bearerFormat: '' },
        },
      },
    },
    securityRequirements: [{ schemes: { bearer: { list: [] } } }],
    defaultInputModes: ['application/json', 'text'],
    defaultOutputModes: ['application/json', 'text'],
    skills: [
      {
        id: w.id,
        name: w.name,
        description:
          (w.description ?? `Runs the workflow "${w.name}".`) +
          (schema ? ` Input (a data part): ${JSON.stringify(schema).slice(0, 2000)}` : ''),
        tags: ['trellis', 'workflow'],
        examples: [],
        inputModes: [],
        outputModes: [],
        securityRequirements: [],
      },
    ],
    documentationUrl: '',
    signatures: [],
  };
}

/** The card as A2A JSON: the security scheme by its field name (the SDK's objects carry `$case`). */
function cardJson(card: AgentCard): Record<string, unknown> {
  return {
    ...card,
    securitySchemes: { bearer: { httpAuthSecurityScheme: { scheme: 'Bearer', description: 'a Trellis API token' } } },
  };
}

export function a2aRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const agents = new Map<string, Agent>();
  const stores = new Set<WorkflowTaskStore>();
  // Task writes still in flight land before the database closes.
  app.addHook('onClose', async () => {
    await Promise.all([...stores].map((s) => s.flush()));
  });

  async function authorize(req: FastifyRequest, workflowId: string, role: Role) {
    const principal = await authenticate(req, ctx, { query: false });
    const w = await getWorkflow(ctx.db, workflowId);
    if (!w || w.deletedAt !== null) throw new HttpProblem('NOT_FOUND', `no workflow '${workflowId}'`);
    const has = principal.isAdmin ? 'owner' : await getRole(ctx.db, w.id, principal.name);
    if (!roleAtLeast(has, role))
      throw new HttpProblem('FORBIDDEN', `'${principal.name}' needs the ${role} role on workflow '${w.id}' for this`);
    return { principal, workflow: w };
  }

  async function agentFor(w: { id: string; name: string; description: string | null; latestVersion: number }, url: string) {
    const madeFor = `${w.latestVersion} ${w.name} ${w.description ?? ''} ${url}`;
    const known = agents.get(w.id);
    if (known?.madeFor === madeFor) return known;
    const v = await getVersion(ctx.db, w.id, w.latestVersion);
    const card = cardFor(w, v?.definition, url);
    if (known) {
      // The card follows the latest version; tasks in flight stay with their handler.
      Object.assign(known.card, card);
      known.madeFor = madeFor;
      return known;
    }
    const engine = ctx.engine;
    if (!engine) throw new HttpProblem('UNAVAILABLE', 'this server has no runner attached');
    const executor = new WorkflowAgentExecutor({
      engine,
      workflowId: w.id,
      principalOf: (rc) => rc.context.user?.userName ?? 'anonymous',
      traceParentOf: (rc) => (rc.context.user as { traceParent?: string } | undefined)?.traceParent,
      versionOf: async () => (await getWorkflow(ctx.db, w.id))?.latestVersion ?? w.latestVersion,
      hold: (task, rc) => tasks.hold(task, rc.context),
      takesMessage: async () => {
        const latest = await getWorkflow(ctx.db, w.id);
        const def = latest ? (await getVersion(ctx.db, w.id, latest.latestVersion))?.definition : undefined;
        const props = (def as { inputSchema?: { properties?: Record<string, unknown> } } | undefined)?.inputSchema?.properties;
        return props !== undefined && 'message' in props;
      },
    });
    const tasks = new WorkflowTaskStore(ctx.db, w.id, executor, (err) =>
      app.log.warn({ err, workflowId: w.id }, 'an A2A task could not be written (its run is unaffected)'),
    );
    stores.add(tasks);
    const handler = new WorkflowRequestHandler(card, tasks, executor);
    const ex = express();
    ex.disable('x-powered-by');
    ex.use(
      '/a2a/workflows/:id',
      jsonRpcHandler({
        requestHandler: handler,
        userBuilder: async (req) => {
          const name = (req as unknown as { [PRINCIPAL]?: string })[PRINCIPAL] ?? 'anonymous';
          // The caller's trace context rides along with the user the SDK hands the executor.
          const traceParent = incomingTraceParent(req.headers.traceparent);
          return { isAuthenticated: name !== 'anonymous', userName: name, ...(traceParent ? { traceParent } : {}) };
        },
        legacyCompat: { enabled: true },
      }),
    );
    const agent = { card, app: ex, madeFor };
    agents.set(w.id, agent);
    return agent;
  }

  void app.register(async (child) => {
    // The SDK's Express handler reads the body itself: leave the stream unread here.
    child.removeAllContentTypeParsers();
    child.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));

    child.get('/a2a/workflows/:id/.well-known/agent-card.json', async (req: FastifyRequest<{ Params: { id: string } }>) => {
      const { workflow } = await authorize(req, req.params.id, 'viewer');
      const agent = await agentFor(workflow, `${baseOf(ctx, req)}/a2a/workflows/${encodeURIComponent(workflow.id)}`);
      return cardJson(agent.card);
    });

    child.post('/a2a/workflows/:id', async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
      const { principal, workflow } = await authorize(req, req.params.id, 'runner');
      const agent = await agentFor(workflow, `${baseOf(ctx, req)}/a2a/workflows/${encodeURIComponent(workflow.id)}`);
      (req.raw as unknown as { [PRINCIPAL]?: string })[PRINCIPAL] = principal.name;
      reply.hijack();
      agent.app(req.raw as express.Request, reply.raw as express.Response);
    });

    child.get(`/${AGENT_CARD_PATH}`, async (req: FastifyRequest) => {
      const principal = await authenticate(req, ctx, { query: false });
      const base = baseOf(ctx, req);
      const workflows = await runnableWorkflows(ctx.db, principal);
      return {
        name: 'Trellis',
        description: `Workflows '${principal.name}' may run on this Trellis, each an A2A agent at ${base}/a2a/workflows/<id>.`,
        supportedInterfaces: [],
        version: '1.0.0',
        capabilities: { streaming: true, pushNotifications: false },
        securitySchemes: { bearer: { httpAuthSecurityScheme: { scheme: 'Bearer', description: 'a Trellis API token' } } },
        securityRequirements: [{ schemes: { bearer: { list: [] } } }],
        defaultInputModes: ['application/json', 'text'],
        defaultOutputModes: ['application/json', 'text'],
        skills: workflows.map((w) => ({
          id: w.id,
          name: w.name,
          description: w.description ?? `Runs the workflow "${w.name}".`,
          tags: ['trellis', 'workflow'],
          examples: [],
          agentCardUrl: `${base}/a2a/workflows/${encodeURIComponent(w.id)}/${AGENT_CARD_PATH}`,
        })),
      };
    });
  });
}
