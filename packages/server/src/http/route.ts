/**
 * The one way to declare an API route. A route is a plain object — method, path, who may call
 * it, zod schemas for params/query/body/responses, and a handler — registered with `api.route()`.
 * From the same object the server
 *   1. authenticates the caller and checks their role (deny by default),
 *   2. validates params, query and body with the zod schemas (400 with every problem),
 *   3. generates the OpenAPI 3.1 document (`/api/v1/openapi.json`),
 * so the contract, the checks and the documentation cannot drift apart. See docs/server.md.
 */

import type { WebSocket } from '@fastify/websocket';
import type { Role } from '@trellis/store';
import { getRole, getWorkflow, type Principal, roleAtLeast, type WorkflowInfo } from '@trellis/store';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { originAllowed } from '../streams/websocket.ts';
import { authenticate, type TokenSources } from './auth.ts';
import type { ServerContext } from './context.ts';
import { MAX_JSON_DEPTH, measureJson } from './json-limits.ts';
import { HttpProblem } from './problem.ts';

export const API_PREFIX = '/api/v1';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** The input a route's access rule can read to find the resource it protects. */
export interface RouteInput<P = unknown, Q = unknown, B = unknown> {
  params: P;
  query: Q;
  body: B;
}

/**
 * Who may call a route. Closed union; the OpenAPI document carries it as `x-trellis-access`,
 * and the authorisation test walks every route by it.
 * - `public`: no token (health, docs).
 * - `user`: any valid token.
 * - `admin`: an administrator's token.
 * - `workflow`: at least `role` on the workflow `workflowId()` names (admins always pass).
 * - `run`: at least `role` on the workflow of the run `runId()` names.
 */
export type Access<P = unknown, Q = unknown, B = unknown> =
  | { kind: 'public' }
  | { kind: 'user' }
  | { kind: 'admin' }
  | { kind: 'workflow'; role: Role; workflowId: (input: RouteInput<P, Q, B>) => string }
  | { kind: 'run'; role: Role; runId: (input: RouteInput<P, Q, B>) => string };

export interface ResponseSpec {
  description: string;
  /** The body's schema; omit for empty bodies. */
  schema?: z.ZodType;
  /** Default application/json. */
  contentType?: string;
  /** A second representation of the same response (e.g. SSE chosen by Accept). */
  also?: { contentType: string; schema: z.ZodType };
}

/** What a handler receives: validated input, the caller and the resource access resolved. */
export interface HandlerContext<P, Q, B> extends RouteInput<P, Q, B> {
  req: FastifyRequest;
  reply: FastifyReply;
  /** The caller; a placeholder anonymous principal on public routes. */
  principal: Principal;
  /** The protected workflow (access kind `workflow`; not loaded for `run`, whose handlers need only the run). */
  workflow: WorkflowInfo | undefined;
  /** The protected run's id and workflow (access kind `run`). */
  run: { id: string; workflowId: string } | undefined;
  /** The caller's effective role on the workflow (`owner` for admins). */
  role: Role | undefined;
  ctx: ServerContext;
}

export interface RouteSpec<PS extends z.ZodType, QS extends z.ZodType, BS extends z.ZodType> {
  method: HttpMethod;
  /** Path under /api/v1, Fastify syntax: `/workflows/:id`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  access: Access<z.output<PS>, z.output<QS>, z.output<BS>>;
  params?: PS;
  query?: QS;
  body?: BS;
  /** A richer schema shown in the document when the handler validates the body itself (e.g. definitions → 422 with compiler codes). */
  bodyDoc?: z.ZodType;
  /** Request headers worth documenting (e.g. Idempotency-Key). */
  headers?: { name: string; description: string; required?: boolean }[];
  responses: Record<number, ResponseSpec>;
  /** Set for a WebSocket route: `socketHandler` replaces `handler`. */
  websocket?: boolean;
  handler?: (c: HandlerContext<z.output<PS>, z.output<QS>, z.output<BS>>) => Promise<unknown>;
  /** WebSocket routes: runs before the upgrade (may throw a problem); its result reaches socketHandler. */
  beforeUpgrade?: (c: HandlerContext<z.output<PS>, z.output<QS>, z.output<BS>>) => () => void;
  socketHandler?: (
    socket: WebSocket,
    c: HandlerContext<z.output<PS>, z.output<QS>, z.output<BS>>,
    release: (() => void) | undefined,
  ) => void;
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds routes of every input type
export type AnyRouteSpec = RouteSpec<any, any, any>;

const ANONYMOUS: Principal = { name: 'anonymous', isAdmin: false, tokenId: '' };

/** The principal each request authenticated as (set by the route's onRequest hook). */
const authenticated = new WeakMap<FastifyRequest, Principal>();

/** A route that may answer with an event stream (its 200 has a text/event-stream form) and is a GET (EventSource). */
function servesEventStream(spec: AnyRouteSpec): boolean {
  return spec.method === 'GET' && Object.values(spec.responses).some((r) => r.also?.contentType === 'text/event-stream');
}

/** A WebSocket upgrade or an EventSource request: the only ones that may carry `?token=`. */
function streamRequest(req: FastifyRequest): boolean {
  const upgrade = req.headers.upgrade;
  if (typeof upgrade === 'string' && upgrade.toLowerCase() === 'websocket') return true;
  const accept = req.headers.accept;
  return typeof accept === 'string' && accept.includes('text/event-stream');
}

/** Turns zod issues into the problem `errors` list (code SCHEMA, JSON pointer paths). */
export function zodProblems(error: z.ZodError, root: string) {
  return error.issues.map((i) => ({
    code: 'SCHEMA' as const,
    message: i.message,
    path: `/${[root, ...i.path.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1'))].join('/')}`,
  }));
}

function parse<S extends z.ZodType>(schema: S | undefined, value: unknown, where: 'params' | 'query' | 'body'): z.output<S> {
  if (!schema) return undefined as z.output<S>;
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const errors = zodProblems(r.error, where);
  const first = errors[0];
  throw new HttpProblem('BAD_REQUEST', `invalid ${where}: ${first ? `${first.path}: ${first.message}` : 'malformed'}`, {
    errors,
  });
}

/** Registers routes on a Fastify instance and remembers them for the OpenAPI document. */
export class Api {
  readonly routes: AnyRouteSpec[] = [];

  constructor(
    readonly app: FastifyInstance,
    readonly ctx: ServerContext,
  ) {}

  /**
   * Documents a route that is registered by hand (e.g. one that needs the raw body): it appears in
   * the OpenAPI document like any other, with its access rule.
   */
  document(spec: AnyRouteSpec): void {
    this.routes.push(spec);
  }

  route<PS extends z.ZodType = z.ZodUndefined, QS extends z.ZodType = z.ZodUndefined, BS extends z.ZodType = z.ZodUndefined>(
    spec: RouteSpec<PS, QS, BS>,
  ): void {
    this.routes.push(spec);
    const url = `${API_PREFIX}${spec.path}`;
    const prepare = (req: FastifyRequest, reply: FastifyReply) => this.prepare(spec, req, reply);
    // Authentication runs first, before the body is read or parsed: a stranger's request is
    // refused for the price of a header check, however large or hostile its body.
    const sources: TokenSources = { query: spec.websocket === true || servesEventStream(spec) };
    const onRequest = async (req: FastifyRequest) => {
      if (spec.access.kind === 'public') return;
      authenticated.set(req, await authenticate(req, this.ctx, { query: sources.query && streamRequest(req) }));
    };
    if (spec.websocket) {
      const socketHandler = spec.socketHandler;
      if (!socketHandler) throw new Error(`route ${spec.operationId}: websocket routes need socketHandler`);
      this.app.route({
        method: 'GET',
        url,
        onRequest,
        // Everything that can fail runs before the upgrade, so failures are plain HTTP problems.
        preValidation: async (req, reply) => {
          const c = await prepare(req, reply);
          const release = spec.beforeUpgrade?.(c);
          Object.assign(req, { trellis: c, trellisRelease: release });
          // A request that never upgrades (plain GET → 426) gives its slot back when it ends.
          if (release) reply.raw.once('close', () => (req.raw as { upgrade?: boolean }).upgrade || release());
        },
        // A plain GET (no upgrade) gets a clear 426 rather than Fastify-websocket's bare 404.
        handler: async () => {
          throw new HttpProblem('UPGRADE_REQUIRED', 'this endpoint speaks WebSocket: connect with an Upgrade: websocket request');
        },
        wsHandler: (socket: WebSocket, req: FastifyRequest) => {
          const r = req as FastifyRequest & {
            trellis?: HandlerContext<z.output<PS>, z.output<QS>, z.output<BS>>;
            trellisRelease?: () => void;
          };
          if (r.trellis) socketHandler(socket, r.trellis, r.trellisRelease);
          else socket.close(1011, 'internal error');
        },
      });
      return;
    }
    const handler = spec.handler;
    if (!handler) throw new Error(`route ${spec.operationId}: handler missing`);
    this.app.route({
      method: spec.method,
      url,
      onRequest,
      handler: async (req, reply) => {
        const result = await handler(await prepare(req, reply));
        if (this.ctx.checkResponses && result !== reply && !reply.sent) checkResponse(spec, reply.statusCode, result);
        return result;
      },
    });
  }

  private async prepare<PS extends z.ZodType, QS extends z.ZodType, BS extends z.ZodType>(
    spec: RouteSpec<PS, QS, BS>,
    req: FastifyRequest,
    reply: FastifyReply,
  ): Promise<HandlerContext<z.output<PS>, z.output<QS>, z.output<BS>>> {
    const { ctx } = this;
    const access = spec.access;
    if (spec.websocket && !originAllowed(req.headers.origin, req.headers.host, ctx.allowedOrigins))
      throw new HttpProblem('FORBIDDEN', `origin '${String(req.headers.origin).slice(0, 200)}' may not open this WebSocket`);
    const principal = access.kind === 'public' ? ANONYMOUS : authenticated.get(req);
    if (!principal) throw new Error(`route ${spec.operationId}: the caller was not authenticated`);
    if (req.body !== undefined && measureJson(req.body).depth > MAX_JSON_DEPTH)
      throw new HttpProblem('BAD_REQUEST', `the body is nested more than ${MAX_JSON_DEPTH} levels deep; flatten it`);
    const input = {
      params: parse(spec.params, req.params, 'params'),
      query: parse(spec.query, req.query, 'query'),
      body: parse(spec.body, req.body, 'body'),
    };
    const c: HandlerContext<z.output<PS>, z.output<QS>, z.output<BS>> = {
      ...input,
      req,
      reply,
      principal,
      workflow: undefined,
      run: undefined,
      role: undefined,
      ctx,
    };
    switch (access.kind) {
      case 'public':
      case 'user':
        return c;
      case 'admin':
        if (!principal.isAdmin) throw new HttpProblem('FORBIDDEN', 'this needs an administrator token');
        return c;
      case 'workflow': {
        const id = access.workflowId(input);
        c.workflow = await getWorkflow(ctx.db, id);
        if (!c.workflow) throw new HttpProblem('NOT_FOUND', `no workflow '${id}'`);
        c.role = await this.authorize(c.workflow.id, principal, access.role);
        return c;
      }
      case 'run': {
        const id = access.runId(input);
        const workflowId = await this.workflowOfRun(id);
        if (!workflowId) throw new HttpProblem('NOT_FOUND', `no run '${id}'`);
        c.run = { id, workflowId };
        c.role = await this.authorize(workflowId, principal, access.role);
        return c;
      }
    }
  }

  /** A run's workflow never changes, so it is remembered (bounded) after the first lookup. */
  private readonly runWorkflow = new Map<string, string>();

  private async workflowOfRun(runId: string): Promise<string | undefined> {
    const known = this.runWorkflow.get(runId);
    if (known) return known;
    const row = await this.ctx.db.selectFrom('runs').select('workflow_id').where('id', '=', runId).executeTakeFirst();
    if (!row) return undefined;
    if (this.runWorkflow.size > 50_000) this.runWorkflow.clear();
    this.runWorkflow.set(runId, row.workflow_id);
    return row.workflow_id;
  }

  private async authorize(workflowId: string, principal: Principal, required: Role): Promise<Role> {
    if (principal.isAdmin) return 'owner';
    const role = await getRole(this.ctx.db, workflowId, principal.name);
    if (!roleAtLeast(role, required) || role === undefined)
      throw new HttpProblem(
        'FORBIDDEN',
        role
          ? `'${principal.name}' is ${role} on workflow '${workflowId}'; this needs ${required} or above`
          : `'${principal.name}' has no role on workflow '${workflowId}'; this needs ${required} or above`,
      );
    return role;
  }
}

/** Test-mode contract check: a JSON response must match the schema its route declares. */
function checkResponse(spec: AnyRouteSpec, status: number, body: unknown): void {
  const declared = spec.responses[status];
  if (!declared) throw new Error(`${spec.operationId} answered ${status}, which its spec does not declare`);
  if (!declared.schema || (declared.contentType && declared.contentType !== 'application/json')) return;
  const r = declared.schema.safeParse(body);
  if (!r.success) throw new Error(`${spec.operationId} ${status} response does not match its schema: ${r.error.message}`);
}
