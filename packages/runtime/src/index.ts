export type * from './engine.ts';
export * from './executors/http-request.ts';
export * from './outbound/index.ts';
