export * from './errors.ts';
export * from './invariants.ts';
export * from './mapping.ts';
export * from './record.ts';
export type { NewRetry, NewRun, PastNode, PastRun, RetryNode, RunListPage, RunStore } from './run-store.ts';
export * from './sqlite-run-store.ts';
