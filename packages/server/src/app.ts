/**
 * The HTTP server, as a factory: `buildServer()` returns a ready Fastify instance (use
 * `inject()` in tests, `listen()` in `trellis serve`). Everything it needs is passed in — the
 * database, the engine, limits — so tests build as many isolated servers as they like.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import type { Connectors } from '@trellis/connectors';
import type { Engine } from '@trellis/runtime';
import type { Database, SecretVault } from '@trellis/store';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import type { Kysely } from 'kysely';
import { a2aRoutes } from './a2a/routes.ts';
import { decodeQueryPart } from './http/auth.ts';
import { DEFAULT_LIMITS, type Limits, type ServerContext } from './http/context.ts';
import { Metrics } from './http/metrics.ts';
import { buildOpenApi } from './http/openapi.ts';
import { HttpProblem, problemBody, toProblem } from './http/problem.ts';
import { RateLimiter } from './http/rate-limit.ts';
import { API_PREFIX, Api } from './http/route.ts';
import { setSecurityHeaders } from './http/security-headers.ts';
import { mcpRoutes } from './mcp/routes.ts';
import { agentRoutes } from './routes/agents.ts';
import { analyticsRoutes } from './routes/analytics.ts';
import { callInfoRoutes } from './routes/call-info.ts';
import { chatRoutes } from './routes/chat.ts';
import { docsRoutes } from './routes/docs.ts';
import { eventRoutes } from './routes/events.ts';
import { healthRoutes } from './routes/health.ts';
import { permissionRoutes } from './routes/permissions.ts';
import { runHistoryRoutes } from './routes/run-history.ts';
import { runRoutes } from './routes/runs.ts';
import { scratchRoutes } from './routes/scratch.ts';
import { secretRoutes } from './routes/secrets.ts';
import { signInRoutes } from './routes/sign-in.ts';
import { templateRoutes } from './routes/templates.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { toolServerRoutes } from './routes/tool-servers.ts';
import { workflowRoutes } from './routes/workflows.ts';
import { StreamAccessWatch } from './streams/access-watch.ts';
import { triggerRoutes } from './triggers/routes.ts';
import { webhookRoutes } from './triggers/webhook.ts';

export const SERVER_VERSION = '0.1.0';

export interface BuildServerOptions {
  store: { db: Kysely<Database> };
  /** Agent and tool registries: workflows naming unknown agents, skills or tools are refused (422). */
  connectors?: Connectors | undefined;
  /** The secrets store: `/secrets` routes and the save-time check of `{{ $secrets.NAME }}`. */
  secrets?: SecretVault | undefined;
  /** The embedded runner; without it run routes answer 503. */
  engine?: Engine | undefined;
  limits?: Partial<Limits>;
  /** Fastify/pino logger options; false (default) for silence. */
  logger?: FastifyServerOptions['logger'];
  /** Extra origins allowed to open WebSockets (the server's own is always allowed). */
  allowedOrigins?: string[];
  baseUrl?: string;
  /**
   * The console's built files (a folder with index.html), served at `/` with client-side route
   * fallback. Absent or false: no console (the `trellis` command passes the @trellis/console build).
   */
  consoleDir?: string | false | undefined;
  /** Validate every JSON response against its declared schema (tests turn this on). */
  checkResponses?: boolean;
  /** The schedule loop (`TriggerScheduler`), woken when a save adds or changes a schedule. */
  triggers?: { wake(): void } | undefined;
  /** How long an MCP tool call waits for its run before answering `{ runId, status }` (default 60 s). */
  mcpWaitMs?: number;
  /** How often an MCP session checks whether its tool list changed (default 5 s). */
  mcpListCheckMs?: number;
  /** More route files (e.g. the connectors' agents and tool servers routes). */
  routeFiles?: ((api: Api) => void)[];
  /** /metrics answers without a token (TRELLIS_METRICS_PUBLIC=1); default false: it needs one. */
  publicMetrics?: boolean;
  /** How often open streams re-check their access, ms (default 2000). */
  streamAccessCheckMs?: number;
}

export interface TrellisServer {
  app: FastifyInstance;
  api: Api;
  ctx: ServerContext;
  openapi(): Record<string, unknown>;
  /** Every method + path Fastify serves under /api/v1, as registered (for the contract test). */
  registeredRoutes: { method: string; url: string }[];
}

/**
 * The URL as it may appear in a log line: the value of every query parameter whose name
 * *decodes* to `token` is replaced, whatever its spelling (`?token=`, `?%74oken=`, `?TOKEN=`),
 * as is any parameter whose name cannot be decoded at all.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const pairs = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = decodeQueryPart(eq < 0 ? pair : pair.slice(0, eq));
      if (name !== undefined && name.trim().toLowerCase() !== 'token') return pair;
      return `${eq < 0 ? pair : pair.slice(0, eq)}=[redacted]`;
    });
  return `${url.slice(0, q)}?${pairs.join('&')}`;
}

/** Pino options with a request serializer that keeps tokens out of the logs. */
function loggerOptions(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (!logger) return false;
  const base = typeof logger === 'object' ? logger : {};
  return {
    ...base,
    serializers: {
      req: (req: { method: string; url: string; ip?: string }) => ({
        method: req.method,
        url: redactUrl(req.url),
        remoteAddress: req.ip,
      }),
    },
  };
}

export async function buildServer(options: BuildServerOptions): Promise<TrellisServer> {
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  const app = Fastify({
    logger: loggerOptions(options.logger),
    bodyLimit: limits.bodyBytes,
    requestIdHeader: false,
    genReqId: () => `req_${randomUUID().replaceAll('-', '').slice(0, 20)}`,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    // Router-level refusals (undecodable URL, over-long path segment) get problem bodies too.
    frameworkErrors: (err, req, reply) => {
      const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      const status = tooLong ? 414 : 400;
      // The router types this reply generically; it is an ordinary reply.
      void (reply as unknown as FastifyReply)
        .code(status)
        .type('application/problem+json')
        .send(
          problemBody(
            status,
            tooLong ? 'URI_TOO_LONG' : 'BAD_REQUEST',
            tooLong ? 'a path segment is longer than 500 characters' : 'the URL cannot be decoded',
            {
              requestId: req.id,
            },
          ),
        );
    },
  });
  const ctx: ServerContext = {
    db: options.store.db,
    engine: options.engine,
    connectors: options.connectors,
    secrets: options.secrets,
    limits,
    metrics: new Metrics(),
    rateLimiter: new RateLimiter(limits.requestsPerMinute),
    failedAuthLimiter: new RateLimiter(limits.failedAuthPerMinute),
    allowedOrigins: options.allowedOrigins ?? [],
    baseUrl: options.baseUrl,
    checkResponses: options.checkResponses === true,
    streams: new Set(),
    streamsByPrincipal: new Map(),
    streamAccess: new StreamAccessWatch(options.store.db, options.streamAccessCheckMs, (err) =>
      app.log.warn({ err }, 'stream access check failed'),
    ),
    publicMetrics: options.publicMetrics === true,
    triggers: options.triggers,
    draining: false,
  };
  app.addHook('onClose', async () => ctx.streamAccess.stop());

  const registeredRoutes: { method: string; url: string }[] = [];
  app.addHook('onRoute', (r) => {
    if (!r.url.startsWith(API_PREFIX)) return;
    for (const m of Array.isArray(r.method) ? r.method : [r.method])
      if (m !== 'HEAD') registeredRoutes.push({ method: m, url: r.url });
  });

  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
    setSecurityHeaders(reply);
  });
  // An unknown route is refused before its body is read, as an unauthenticated one is.
  app.addHook('onRequest', async (req) => {
    if (req.is404 && req.method !== 'GET' && req.method !== 'HEAD')
      throw new HttpProblem(
        'NOT_FOUND',
        `no route ${req.method} ${(req.url.split('?')[0] ?? '').slice(0, 200)}; see ${API_PREFIX}/docs`,
      );
  });
  app.addHook('onResponse', async (req, reply) => {
    ctx.metrics.countRequest(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode);
  });

  app.setErrorHandler((err, req, reply) => {
    const p = toProblem(err);
    if (!p.expose) req.log.error({ err, url: redactUrl(req.url) }, 'unhandled error');
    else if (p.status >= 500) req.log.warn({ code: p.body.code, detail: p.body.detail }, 'server problem');
    void reply
      .code(p.status)
      .headers(p.headers)
      .type('application/problem+json')
      .send({ ...p.body, instance: (req.url.split('?')[0] ?? '').slice(0, 300), requestId: req.id });
  });

  await app.register(fastifyWebsocket, {
    options: { maxPayload: 64 * 1024 },
    errorHandler: (error, socket, req) => {
      req.log.warn({ err: error }, 'websocket error');
      socket.terminate();
    },
  });

  const api = new Api(app, ctx);
  const openapi = () => buildOpenApi(api.routes, { version: SERVER_VERSION, serverUrl: options.baseUrl });
  healthRoutes(api);
  docsRoutes(api, openapi);
  workflowRoutes(api);
  permissionRoutes(api);
  runRoutes(api);
  runHistoryRoutes(api);
  analyticsRoutes(api);
  scratchRoutes(api);
  eventRoutes(api);
  chatRoutes(api);
  templateRoutes(api);
  tokenRoutes(api);
  signInRoutes(api);
  callInfoRoutes(api);
  agentRoutes(api);
  toolServerRoutes(api);
  triggerRoutes(api);
  webhookRoutes(api, { perTriggerPerMinute: limits.webhooksPerTriggerPerMinute, bodyBytes: limits.bodyBytes });
  secretRoutes(api);
  for (const add of options.routeFiles ?? []) add(api);
  const mcp = mcpRoutes(app, ctx, {
    waitMs: options.mcpWaitMs ?? 60_000,
    version: SERVER_VERSION,
    ...(options.mcpListCheckMs !== undefined ? { listCheckMs: options.mcpListCheckMs } : {}),
  });
  app.addHook('onClose', async () => mcp.close());
  a2aRoutes(app, ctx);

  const consoleDir = options.consoleDir ?? false;
  const hasConsole = consoleDir !== false && existsSync(join(consoleDir, 'index.html'));
  if (hasConsole) await app.register(fastifyStatic, { root: consoleDir, prefix: '/', index: ['index.html'] });

  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    if (hasConsole && req.method === 'GET' && !path.startsWith('/api/') && !path.startsWith('/ws/')) {
      // SPA fallback: client-side routes (e.g. /runs/123) load the console.
      return reply.type('text/html').sendFile('index.html');
    }
    throw new HttpProblem('NOT_FOUND', `no route ${req.method} ${path.slice(0, 200)}; see ${API_PREFIX}/docs`);
  });

  await app.ready();
  return { app, api, ctx, openapi, registeredRoutes };
}
