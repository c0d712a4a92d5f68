/**
 * One call wires the connectors for a host (server, worker, `trellis run`): the registries and
 * the executors the runner's ExecutorResolver needs for `agent_call` and MCP `tool_call` nodes.
 */
import type { Executor, RunEvent } from '@trellis/core';
import { type OutboundGuard, type SecretSource, TERMINAL_EVENT_TYPES } from '@trellis/runtime';
import type { Database } from '@trellis/store';
import type { Kysely } from 'kysely';
import { createAgentCallExecutor } from './a2a/agent-call-executor.ts';
import { AgentRegistry } from './a2a/agent-registry.ts';
import { type A2ALimits, a2aLimits } from './a2a/limits.ts';
import { redacting } from './auth/headers.ts';
import type { McpConnectionLog } from './mcp/connections.ts';
import { type McpLimits, mcpLimits } from './mcp/limits.ts';
import { createMcpToolExecutor } from './mcp/tool-executor.ts';
import { ToolServerRegistry } from './mcp/tool-server-registry.ts';

export interface ConnectorOptions {
  db: Kysely<Database>;
  guard: OutboundGuard;
  /** Working directory for stdio MCP servers. */
  cwd?: string;
  /** GetTask poll interval for agents that cannot stream (default 250 ms). */
  pollIntervalMs?: number;
  /** Values for `{{ $secrets.NAME }}` in agent and tool-server registration headers. */
  secrets?: SecretSource;
  /** The host's log: a stdio MCP server that fails to start is told here in full (errors only name it). */
  log?: McpConnectionLog;
  /** MCP limits (call timeout, stderr tail, stdio message size and process cap, session idle); unset ones come from the environment, else defaults. */
  mcp?: Partial<McpLimits>;
  /** A2A limits (card fetch timeout, cancel grace and timeout); unset ones come from the environment, else defaults. */
  a2a?: Partial<A2ALimits>;
  /** Where `TRELLIS_MCP_*` and `TRELLIS_A2A_*` limits are read (default `process.env`). */
  env?: Record<string, string | undefined>;
}

export interface Connectors {
  agents: AgentRegistry;
  tools: ToolServerRegistry;
  /** The `agent_call` executor. */
  agentCall: Executor;
  /** The executor for a `tool_call` node's tool when it is an MCP tool (`<server>/<tool>`). */
  toolCall(tool: string): Executor | undefined;
  /**
   * Closes the MCP sessions run `runId` opened. `watchRunEnds` arranges it: given a way to
   * listen to one run's events (the engine's `hub.on`), each run that opens a session has its
   * sessions closed at its terminal event.
   */
  endRun(runId: string): Promise<void>;
  watchRunEnds(on: (runId: string, listener: (event: RunEvent) => void) => () => void): void;
  /** Closes pooled MCP connections (and stops stdio servers). */
  close(): Promise<void>;
}

export function createConnectorExecutors(options: ConnectorOptions): Connectors {
  const limits = mcpLimits(options.mcp, options.env);
  const a2a = a2aLimits(options.a2a, options.env);
  const agents = new AgentRegistry({
    db: options.db,
    fetch: options.guard.fetch,
    secrets: options.secrets,
    cardTimeoutMs: a2a.cardTimeoutMs,
  });
  const tools = new ToolServerRegistry({
    db: options.db,
    fetch: options.guard.fetch,
    checkUrl: (u) => options.guard.checkUrl(u),
    cwd: options.cwd,
    secrets: options.secrets,
    stderrTailBytes: limits.stderrTailBytes,
    stdioMaxMessageBytes: limits.stdioMaxMessageBytes,
    sessionIdleMs: limits.sessionIdleMs,
    maxStdioProcesses: limits.stdioMaxProcesses,
    stdioSlotWaitMs: limits.callTimeoutMs,
    ...(options.log ? { log: options.log } : {}),
  });
  const agentCall = createAgentCallExecutor({
    agents,
    fetch: options.guard.fetch,
    pollIntervalMs: options.pollIntervalMs,
    secrets: options.secrets,
    redactor: agents.redactor,
    cancelGraceMs: a2a.cancelGraceMs,
    cancelTimeoutMs: a2a.cancelTimeoutMs,
  });
  const rawMcp = createMcpToolExecutor({ tools, timeoutMs: limits.callTimeoutMs });
  // A tool's error text or output may echo a header back: redacted like everything from the server.
  const mcp: Executor = { execute: (input, ctx) => redacting(tools.redactor, () => rawMcp.execute(input, ctx)) };
  return {
    agents,
    tools,
    agentCall,
    toolCall: (tool) => (tool.includes('/') ? mcp : undefined),
    endRun: (runId) => tools.endRun(runId),
    watchRunEnds(on) {
      tools.onRunSession = (runId) => {
        const off = on(runId, (event) => {
          if (!TERMINAL_EVENT_TYPES.has(event.type)) return;
          void tools.endRun(runId);
        });
        return off;
      };
    },
    close: () => tools.close(),
  };
}
