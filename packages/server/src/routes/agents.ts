/**
 * The agent registry over HTTP (SPEC §4 `/agents`, §6). Any signed-in user may read the registry
 * and register an agent (an *editor* in SPEC §6's sense: registering only reads a public card);
 * refreshing or removing one changes what every workflow naming it reaches, so only the
 * principal who registered it, or an administrator, may do that. See docs/server.md.
 */

import {
  agentListSchema,
  agentQuery,
  agentSchema,
  idParams,
  refreshedAgentSchema,
  registerAgentBody,
} from '@trellis/client/schemas';
import type { AgentInfo, Connectors } from '@trellis/connectors';
import { TrellisError } from '@trellis/core';
import type { Principal } from '@trellis/store';
import type { ServerContext } from '../http/context.ts';
import { HttpProblem } from '../http/problem.ts';
import type { Api } from '../http/route.ts';

/** The registries, or 503: a server built without connectors (e.g. contract tests) has none. */
export function requireConnectors(ctx: ServerContext): Connectors {
  if (!ctx.connectors)
    throw new HttpProblem(
      'UNAVAILABLE',
      'agent and tool registries are not configured on this server; start it with `trellis serve`',
    );
  return ctx.connectors;
}

/** Codes meaning "the remote side could not be reached or read": the URL given is unusable (422). */
const UNREACHABLE = new Set(['AGENT_ERROR', 'TOOL_ERROR', 'NETWORK_ERROR', 'TIMEOUT', 'HTTP_ERROR', 'RATE_LIMITED']);

/** The first TrellisError in an error's cause chain (SDKs wrap the guard's errors). */
function trellisErrorIn(err: unknown): TrellisError | undefined {
  let e: unknown = err;
  for (let i = 0; i < 6 && e instanceof Error; i++) {
    if (e instanceof TrellisError) return e;
    e = e.cause;
  }
  return undefined;
}

/**
 * Turns a registry's error into the HTTP problem a client can act on. `contacting` names the
 * remote side when the failing call had to reach it (registration, refresh): then any failure
 * that is not ours — a refused address, an unreachable host, a bad card or protocol error — is a
 * 422 saying what to fix, never a 500.
 */
export function registryProblem(err: unknown, contacting?: string): unknown {
  if (err instanceof HttpProblem) return err;
  const te = trellisErrorIn(err);
  if (te) {
    switch (te.code) {
      case 'CONFLICT':
        return new HttpProblem('CONFLICT', te.message);
      case 'FORBIDDEN':
        return new HttpProblem('FORBIDDEN', te.message);
      case 'NOT_FOUND':
      case 'AGENT_NOT_FOUND':
      case 'TOOL_NOT_FOUND':
        return new HttpProblem('NOT_FOUND', te.message);
      case 'INPUT_INVALID':
        return new HttpProblem('INPUT_INVALID', te.message);
      case 'OUTBOUND_BLOCKED':
      case 'SECRET_NOT_FOUND':
      case 'SECRET_NOT_ALLOWED_HERE':
        return new HttpProblem('INPUT_INVALID', `${te.code}: ${te.message}`);
    }
    if (contacting && (UNREACHABLE.has(te.code) || /^HTTP_\d{3}$/.test(te.code)))
      return new HttpProblem('INPUT_INVALID', `${te.code}: cannot use ${contacting}: ${te.message}`);
    return err;
  }
  if (contacting && err instanceof Error)
    return new HttpProblem('INPUT_INVALID', `cannot use ${contacting}: ${err.message.slice(0, 500)}`);
  return err;
}

/** Creator-or-admin rule for changing a registry entry (403 names who may). */
export function requireOwnerOrAdmin(principal: Principal, entry: { name: string; createdBy: string }, what: string): void {
  if (principal.isAdmin || principal.name === entry.createdBy) return;
  throw new HttpProblem(
    'FORBIDDEN',
    `'${principal.name}' may not change ${what} "${entry.name}": only '${entry.createdBy}' (who registered it) or an administrator may`,
  );
}

const view = (a: AgentInfo) => a;

export function agentRoutes(api: Api): void {
  const { ctx } = api;

  async function existing(idOrName: string): Promise<AgentInfo> {
    const agent = await requireConnectors(ctx).agents.get(idOrName);
    if (!agent) throw new HttpProblem('NOT_FOUND', `no agent '${idOrName}' is registered`);
    return agent;
  }

  api.route({
    method: 'GET',
    path: '/agents',
    operationId: 'listAgents',
    summary: 'Registered agents, by name; discover by skill id, tag or text',
    tags: ['agents'],
    access: { kind: 'user' },
    query: agentQuery,
    responses: {
      200: { description: 'the agents that match every filter given', schema: agentListSchema },
      503: { description: 'no registry on this server' },
    },
    handler: async ({ query }) => ({ items: (await requireConnectors(ctx).agents.list(query)).map(view) }),
  });

  api.route({
    method: 'POST',
    path: '/agents',
    operationId: 'registerAgent',
    summary:
      'Register an A2A agent by URL: its agent card is fetched (with `headers`, which may hold `{{ $secrets.NAME }}`), checked and stored',
    tags: ['agents'],
    access: { kind: 'user' },
    body: registerAgentBody,
    responses: {
      201: { description: 'registered', schema: agentSchema },
      409: { description: 'this URL or name is already registered' },
      422: { description: 'no valid agent card at that URL, or the address is refused (see TRELLIS_ALLOW_HOSTS)' },
      503: { description: 'no registry on this server' },
    },
    handler: async ({ body, principal, reply }) => {
      const agents = requireConnectors(ctx).agents;
      let agent: AgentInfo;
      try {
        agent = await agents.register({
          url: body.url,
          name: body.name,
          headers: body.headers,
          credential: body.credential,
          createdBy: principal.name,
        });
      } catch (err) {
        throw registryProblem(err, `the agent at ${body.url}`);
      }
      reply.code(201).header('location', `/api/v1/agents/${agent.id}`);
      return view(agent);
    },
  });

  api.route({
    method: 'GET',
    path: '/agents/:id',
    operationId: 'getAgent',
    summary: 'One agent, by id or name, with its card',
    tags: ['agents'],
    access: { kind: 'user' },
    params: idParams,
    responses: {
      200: { description: 'the agent', schema: agentSchema },
      503: { description: 'no registry on this server' },
    },
    handler: async ({ params }) => view(await existing(params.id)),
  });

  api.route({
    method: 'POST',
    path: '/agents/:id/refresh',
    operationId: 'refreshAgent',
    summary: 'Fetch the agent card again (its creator or an administrator)',
    tags: ['agents'],
    access: { kind: 'user' },
    params: idParams,
    responses: {
      200: { description: 'the agent as now stored; `changed` tells whether the card moved', schema: refreshedAgentSchema },
      422: { description: 'the card can no longer be fetched or is invalid' },
      503: { description: 'no registry on this server' },
    },
    handler: async ({ params, principal }) => {
      const current = await existing(params.id);
      requireOwnerOrAdmin(principal, current, 'agent');
      try {
        const { agent, changed } = await requireConnectors(ctx).agents.refresh(current.id);
        return { ...view(agent), changed };
      } catch (err) {
        throw registryProblem(err, `the agent at ${current.url}`);
      }
    },
  });

  api.route({
    method: 'DELETE',
    path: '/agents/:id',
    operationId: 'deleteAgent',
    summary: 'Remove an agent (its creator or an administrator); workflows naming it fail to save or run until it is back',
    tags: ['agents'],
    access: { kind: 'user' },
    params: idParams,
    responses: {
      204: { description: 'removed' },
      503: { description: 'no registry on this server' },
    },
    handler: async ({ params, principal, reply }) => {
      const current = await existing(params.id);
      requireOwnerOrAdmin(principal, current, 'agent');
      await requireConnectors(ctx).agents.delete(current.id);
      reply.code(204);
      return null;
    },
  });
}
