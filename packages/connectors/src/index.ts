export * from './a2a/agent-call-executor.ts';
export * from './a2a/agent-registry.ts';
export * from './a2a/results.ts';
export * from './a2a/transport.ts';
