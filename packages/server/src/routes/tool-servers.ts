/**
 * The MCP tool-server registry over HTTP (SPEC §4 `/tool_servers`, `/tools`; §6). Any signed-in
 * user may read it and register a Streamable HTTP server (reaching it goes through the outbound
 * guard like any call); a stdio server starts a process on the Trellis host, so only
 * administrators may register one (SPEC §6). Refreshing or removing a server: its creator or an
 * administrator. See docs/server.md.
 */

import {
  idParams,
  registerToolServerBody,
  registerToolServerDoc,
  toolListSchema,
  toolQuery,
  toolServerListSchema,
  toolServerSchema,
} from '@trellis/client/schemas';
import type { NewToolServerInput, ToolServerInfo } from '@trellis/connectors';
import type { Principal } from '@trellis/store';
import { HttpProblem } from '../http/problem.ts';
import type { Api } from '../http/route.ts';
import { registryProblem, requireConnectors, requireOwnerOrAdmin } from './agents.ts';

/**
 * stdio arguments may carry secrets (keys, connection strings): only admins and the creator see
 * them; the same for `env` and `cwd` (env values are already shown as references or `[hidden]`).
 */
function view(s: ToolServerInfo, principal: Principal) {
  const { args, env, cwd, ...rest } = s;
  return principal.isAdmin || principal.name === s.createdBy ? { ...rest, args, env, cwd } : rest;
}

function where(s: Pick<ToolServerInfo, 'name' | 'url' | 'command'>): string {
  return `the MCP server "${s.name}" at ${s.url ?? s.command}`;
}

export function toolServerRoutes(api: Api): void {
  const { ctx } = api;

  async function existing(idOrName: string): Promise<ToolServerInfo> {
    const server = await requireConnectors(ctx).tools.get(idOrName);
    if (!server) throw new HttpProblem('NOT_FOUND', `no tool server '${idOrName}' is registered`);
    return server;
  }

  api.route({
    method: 'GET',
    path: '/tool_servers',
    operationId: 'listToolServers',
    summary: 'Registered MCP servers, by name, with their tools',
    tags: ['tools'],
    access: { kind: 'user' },
    responses: {
      200: { description: 'the servers', schema: toolServerListSchema },
      503: { description: 'no registry on this server' },
    },
    handler: async ({ principal }) => ({
      items: (await requireConnectors(ctx).tools.list()).map((s) => view(s, principal)),
    }),
  });

  api.route({
    method: 'POST',
    path: '/tool_servers',
    operationId: 'registerToolServer',
    summary:
      'Register an MCP server: `{ name, url, headers? }` (Streamable HTTP; headers may hold `{{ $secrets.NAME }}`) or `{ name, command, args }` (stdio, administrators)',
    tags: ['tools'],
    access: { kind: 'user' },
    body: registerToolServerBody,
    bodyDoc: registerToolServerDoc,
    responses: {
      201: { description: 'registered, with the tools it lists', schema: toolServerSchema },
      403: { description: 'a stdio server needs an administrator' },
      409: { description: 'a server with this name exists' },
      422: { description: 'the server cannot be reached or spoken to, or the address is refused (see TRELLIS_ALLOW_HOSTS)' },
      503: { description: 'no registry on this server' },
    },
    handler: async ({ body, principal, reply }) => {
      const tools = requireConnectors(ctx).tools;
      const input: NewToolServerInput =
        body.url !== undefined
          ? { name: body.name, url: body.url, headers: body.headers, ...(body.sessions ? { sessions: body.sessions } : {}) }
          : {
              name: body.name,
              command: body.command as string,
              args: body.args ?? [],
              headers: body.headers,
              ...(body.env ? { env: body.env } : {}),
              ...(body.cwd ? { cwd: body.cwd } : {}),
              ...(body.sessions ? { sessions: body.sessions } : {}),
            };
      // Checked here too (the registry also refuses it) so that a non-admin learns before anything is probed.
      if (input.command !== undefined && !principal.isAdmin)
        throw new HttpProblem(
          'FORBIDDEN',
          'only administrators may register a stdio tool server: it starts a process on the Trellis host',
        );
      let server: ToolServerInfo;
      try {
        server = await tools.register(input, { name: principal.name, isAdmin: principal.isAdmin });
      } catch (err) {
        throw registryProblem(err, where({ name: body.name, url: input.url ?? null, command: input.command ?? null }));
      }
      reply.code(201).header('location', `/api/v1/tool_servers/${server.id}`);
      return view(server, principal);
    },
  });

  api.route({
    method: 'GET',
    path: '/tool_servers/:id',
    operationId: 'getToolServer',
    summary: 'One MCP server, by id or name, with its tools',
    tags: ['tools'],
    access: { kind: 'user' },
    params: idParams,
    responses: {
      200: { description: 'the server', schema: toolServerSchema },
      503: { description: 'no registry on this server' },
    },
    handler: async ({ params, principal }) => view(await existing(params.id), principal),
  });

  api.route({
    method: 'POST',
    path: '/tool_servers/:id/refresh',
    operationId: 'refreshToolServer',
    summary: 'List the server’s tools again (its creator or an administrator)',
    tags: ['tools'],
    access: { kind: 'user' },
    params: idParams,
    responses: {
      200: { description: 'the server as now stored', schema: toolServerSchema },
      422: { description: 'the server cannot be reached or spoken to' },
      503: { description: 'no registry on this server' },
    },
    handler: async ({ params, principal }) => {
      const current = await existing(params.id);
      requireOwnerOrAdmin(principal, current, 'tool server');
      try {
        return view(await requireConnectors(ctx).tools.refresh(current.id), principal);
      } catch (err) {
        throw registryProblem(err, where(current));
      }
    },
  });

  api.route({
    method: 'DELETE',
    path: '/tool_servers/:id',
    operationId: 'deleteToolServer',
    summary: 'Remove an MCP server (its creator or an administrator); its pooled connection is closed',
    tags: ['tools'],
    access: { kind: 'user' },
    params: idParams,
    responses: {
      204: { description: 'removed' },
      503: { description: 'no registry on this server' },
    },
    handler: async ({ params, principal, reply }) => {
      const current = await existing(params.id);
      requireOwnerOrAdmin(principal, current, 'tool server');
      await requireConnectors(ctx).tools.delete(current.id);
      reply.code(204);
      return null;
    },
  });

  api.route({
    method: 'GET',
    path: '/tools',
    operationId: 'listTools',
    summary: 'Every tool of every registered MCP server, named `<server>/<tool>` as a tool_call node names it',
    tags: ['tools'],
    access: { kind: 'user' },
    query: toolQuery,
    responses: {
      200: { description: 'the tools, as listed at registration or the last refresh', schema: toolListSchema },
      503: { description: 'no registry on this server' },
    },
    handler: async ({ query }) => {
      const server = query.server || undefined;
      const q = query.q?.trim().toLowerCase();
      const items = (await requireConnectors(ctx).tools.listTools()).filter(
        (t) =>
          (!server || t.server === server || t.serverId === server) &&
          (!q || `${t.id}\n${t.description ?? ''}`.toLowerCase().includes(q)),
      );
      return { items };
    },
  });
}
