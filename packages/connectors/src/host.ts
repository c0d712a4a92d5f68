/**
 * Everything a host process (server, worker, `trellis run`) needs to execute every node type:
 * the outbound guard, the built-in `http.request` tool, and the A2A / MCP connectors, combined
 * into one ExecutorResolver for the engine.
 */
import type { Executor, ExecutorResolver } from '@trellis/core';
import {
  allowHostsFromEnv,
  createExecutorResolver,
  createHttpRequestExecutor,
  createOutboundGuard,
  LOOPBACK_ALLOW_HOSTS,
  type OutboundGuard,
  type SecretSource,
} from '@trellis/runtime';
import type { Database } from '@trellis/store';
import type { Kysely } from 'kysely';
import { type Connectors, createConnectorExecutors } from './executors.ts';
import type { McpConnectionLog } from './mcp/connections.ts';

export interface HostExecutorsOptions {
  db: Kysely<Database>;
  /** Private or loopback hosts/CIDRs outbound calls may reach. Default: TRELLIS_ALLOW_HOSTS (an explicit list replaces it). */
  allowHosts?: readonly string[];
  /** Also allow loopback addresses (`trellis run` and `--demo`). */
  allowLoopback?: boolean;
  /** Secret values for http.request and registration headers (absent: every secret reference fails clearly). */
  secrets?: SecretSource;
  /** The host's own tools by exact name; they take precedence over MCP tools (`<server>/<tool>`). */
  tools?: Readonly<Record<string, Executor>>;
  /** The host's log: a stdio MCP server that fails to start is told here in full (node errors only name it). */
  log?: McpConnectionLog;
}

export interface HostExecutors {
  resolver: ExecutorResolver;
  connectors: Connectors;
  guard: OutboundGuard;
  /** The allow-list in force. */
  allowHosts: readonly string[];
  close(): Promise<void>;
}

export function createHostExecutors(options: HostExecutorsOptions): HostExecutors {
  const allowHosts = [...(options.allowHosts ?? allowHostsFromEnv()), ...(options.allowLoopback ? LOOPBACK_ALLOW_HOSTS : [])];
  const guard = createOutboundGuard({ allowHosts });
  const connectors = createConnectorExecutors({
    db: options.db,
    guard,
    secrets: options.secrets,
    ...(options.log ? { log: options.log } : {}),
  });
  const resolver = createExecutorResolver({
    tools: { 'http.request': createHttpRequestExecutor({ guard, secrets: options.secrets }), ...options.tools },
    agentCall: connectors.agentCall,
    toolCall: (tool) => connectors.toolCall(tool),
  });
  return {
    resolver,
    connectors,
    guard,
    allowHosts,
    async close() {
      await connectors.close();
      await guard.close();
    },
  };
}
