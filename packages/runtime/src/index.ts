export * from './clock.ts';
export type * from './engine.ts';
export * from './events/hub.ts';
export * from './executors/builtins.ts';
export * from './executors/http-request.ts';
export * from './executors/registry.ts';
export * from './outbound/index.ts';
export * from './prepared.ts';
export { createEngine, type EngineLogger, type EngineOptions, RunnerEngine } from './runner/engine.ts';
