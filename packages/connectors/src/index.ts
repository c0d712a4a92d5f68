/**
 * @trellis/connectors — A2A agents and MCP tools as executors, their registries, and createTrellis (the one composition function).
 * The public surface, by name; what other Trellis packages need but users do not is at
 * `@trellis/connectors/internal` (no stability promise). A new public name is added here.
 */
/** The `agent_call` executor on the official A2A SDK. */
export { type A2ARemoteRef, type AgentCallExecutorDeps, createAgentCallExecutor } from './a2a/agent-call-executor.ts';
/** The agent registry. */
export {
  type AgentInfo,
  type AgentQuery,
  type AgentRef,
  AgentRegistry,
  type AgentRegistryOptions,
  type AgentResolver,
  cardHash,
  type ResolvedAgent,
  type SkillSummary,
  skillsOf,
} from './a2a/agent-registry.ts';
/** The A2A client's limits, each set by an option, else an environment variable, else a default. */
export { A2A_LIMITS_ENV, type A2ALimits, a2aLimits, DEFAULT_A2A_LIMITS } from './a2a/limits.ts';
/** SPEC §6 in code. */
export type { AgentOutput } from './a2a/results.ts';
/** How Trellis talks to A2A agents. */
export { A2AClientPool, AGENT_CARD_TIMEOUT_MS, fetchAgentCard } from './a2a/transport.ts';
/** One call wires the connectors for a host (server, worker, `trellis run`). */
export { type ConnectorOptions, type Connectors, createConnectorExecutors } from './executors.ts';
/** Everything a host process (server, worker, `trellis run`) needs to execute every node type. */
export { createHostExecutors, type HostExecutors, type HostExecutorsOptions } from './host.ts';
/** MCP connections by key (the registry keys them per server and run, or per server for a shared session), opened on first use and reused. */
export { type McpConnectionLog, McpConnectionPool, type McpConnectionPoolOptions, type McpEndpoint } from './mcp/connections.ts';
/** The MCP client's limits, each set by an option, else an environment variable, else a default. */
export { DEFAULT_MCP_LIMITS, MCP_LIMITS_ENV, type McpLimits, mcpLimits } from './mcp/limits.ts';
/** The `tool_call` executor for MCP tools (`<server>/<tool>`). */
export { createMcpToolExecutor, type McpToolExecutorDeps } from './mcp/tool-executor.ts';
/** The MCP tool-server registry. */
export {
  DEFAULT_SESSION_IDLE_MS,
  type NewToolServerInput,
  type ToolInfo,
  type ToolServerInfo,
  ToolServerRegistry,
  type ToolServerRegistryOptions,
} from './mcp/tool-server-registry.ts';
/** Save-time checks of what a workflow names outside itself. */
export { type ConnectorRegistries, checkConnectorReferences } from './references.ts';
/** `createTrellis`. */
export { createTrellis, type ToolFunction, type Trellis, type TrellisOptions } from './trellis.ts';
