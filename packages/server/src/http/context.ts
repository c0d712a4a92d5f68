/**
 * What every route handler can reach: the database, the engine (absent in a server built
 * without a runner, e.g. for contract tests — run routes then answer 503), limits and metrics.
 * Passed explicitly to each route file; nothing is read from globals.
 */
import type { Connectors } from '@trellis/connectors';
import type { Engine } from '@trellis/runtime';
import type { Database, SecretVault } from '@trellis/store';
import type { Kysely } from 'kysely';
import type { StreamAccessWatch } from '../streams/access-watch.ts';
import type { Metrics } from './metrics.ts';
import type { RateLimiter } from './rate-limit.ts';

/** Tunable limits. Every one protects the server from a single client. */
export interface Limits {
  /** Largest request body, bytes (413 beyond). */
  bodyBytes: number;
  /** Largest workflow definition, bytes of JSON (413 beyond). */
  definitionBytes: number;
  /** Largest page a list endpoint returns. */
  maxPageSize: number;
  /** Requests per principal (all its tokens together) per minute (429 beyond), refilled continuously. */
  requestsPerMinute: number;
  /** Requests without a valid token (none or bad) per client address per minute (429 beyond). */
  failedAuthPerMinute: number;
  /**
   * Unsent bytes a stream's socket may hold: replay waits for the client below it; a live event
   * arriving above it cuts the client off (it resumes with `after`).
   */
  socketHighWaterBytes: number;
  /** Open WebSocket/SSE streams one principal may hold, all its tokens together (429 beyond). */
  streamsPerPrincipal: number;
  /** Webhook deliveries per trigger per minute (429 beyond). */
  webhooksPerTriggerPerMinute: number;
}

export const DEFAULT_LIMITS: Limits = {
  bodyBytes: 2 * 1024 * 1024,
  definitionBytes: 1024 * 1024,
  maxPageSize: 200,
  requestsPerMinute: 6000,
  failedAuthPerMinute: 600,
  socketHighWaterBytes: 4 * 1024 * 1024,
  streamsPerPrincipal: 500,
  webhooksPerTriggerPerMinute: 600,
};

export interface ServerContext {
  readonly db: Kysely<Database>;
  readonly engine: Engine | undefined;
  /** Agent and tool registries (routes of agents and tool servers; save-time reference checks); absent in contract tests. */
  readonly connectors: Connectors | undefined;
  /** The secrets store (absent in contract tests; `available` false without a key). */
  readonly secrets: SecretVault | undefined;
  readonly limits: Limits;
  readonly metrics: Metrics;
  readonly rateLimiter: RateLimiter;
  /** Requests with a missing-or-bad token, per client address. */
  readonly failedAuthLimiter: RateLimiter;
  /** Origins (scheme://host:port) allowed to open WebSockets besides the server's own. */
  readonly allowedOrigins: readonly string[];
  /** Public base URL, e.g. http://127.0.0.1:8080 (for links printed and returned). */
  readonly baseUrl: string | undefined;
  /** Check JSON responses against their declared schemas (tests). */
  readonly checkResponses: boolean;
  /** Open event streams (WebSocket, SSE), closed with a reason when the server shuts down. */
  readonly streams: Set<(reason: string) => void>;
  /** Open streams per principal name (see acquireStream). */
  readonly streamsByPrincipal: Map<string, number>;
  /** Re-checks the access of open streams (token revoked or expired, role withdrawn). */
  readonly streamAccess: StreamAccessWatch;
  /** /metrics answers without a token (TRELLIS_METRICS_PUBLIC). */
  readonly publicMetrics: boolean;
  /** The schedule loop, woken when a save adds or changes a schedule (absent: nothing to wake). */
  readonly triggers: { wake(): void } | undefined;
  /** True once the server is draining: readyz fails and new runs are refused. */
  draining: boolean;
}
