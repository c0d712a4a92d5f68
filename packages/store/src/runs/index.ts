export * from './errors.ts';
export * from './invariants.ts';
export * from './mapping.ts';
export * from './record.ts';
export type { NewRun, RunListPage, RunRows, RunStore } from './run-store.ts';
export * from './sqlite-run-store.ts';
