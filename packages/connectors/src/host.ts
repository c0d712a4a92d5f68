/**
 * Everything a host process (server, worker, `trellis run`) needs to execute every node type:
 * the outbound guard, the built-in `http.request` tool, and the A2A / MCP connectors, combined
 * into one ExecutorResolver for the engine.
 */
import type { ExecutorResolver } from '@trellis/core';
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

export interface HostExecutorsOptions {
  db: Kysely<Database>;
  /** Extra hosts/CIDRs beyond TRELLIS_ALLOW_HOSTS that outbound calls may reach. */
  allowHosts?: readonly string[];
  /** Allow loopback addresses (`trellis run` and `--demo`; SPEC §3). */
  allowLoopback?: boolean;
  /** Secret values for http.request and registration headers (absent: every secret reference fails clearly). */
  secrets?: SecretSource;
}

export interface HostExecutors {
  resolver: ExecutorResolver;
  connectors: Connectors;
  guard: OutboundGuard;
  close(): Promise<void>;
}

export function createHostExecutors(options: HostExecutorsOptions): HostExecutors {
  const allowHosts = [
    ...allowHostsFromEnv(),
    ...(options.allowHosts ?? []),
    ...(options.allowLoopback ? LOOPBACK_ALLOW_HOSTS : []),
  ];
  const guard = createOutboundGuard({ allowHosts });
  const connectors = createConnectorExecutors({ db: options.db, guard, secrets: options.secrets });
  const resolver = createExecutorResolver({
    tools: { 'http.request': createHttpRequestExecutor({ guard, secrets: options.secrets }) },
    agentCall: connectors.agentCall,
    toolCall: (tool) => connectors.toolCall(tool),
  });
  return {
    resolver,
    connectors,
    guard,
    async close() {
      await connectors.close();
      await guard.close();
    },
  };
}
