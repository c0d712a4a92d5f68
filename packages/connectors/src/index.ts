export * from './a2a/agent-call-executor.ts';
export * from './a2a/agent-registry.ts';
export * from './a2a/results.ts';
export * from './a2a/transport.ts';
export * from './mcp/connections.ts';
export * from './mcp/schema.ts';
export * from './mcp/tool-executor.ts';
export * from './mcp/tool-server-registry.ts';
