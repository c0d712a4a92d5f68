export * from './errors.ts';
export * from './invariants.ts';
export * from './record.ts';
export type * from './run-store.ts';
export * from './sqlite-run-store.ts';
