export * from './errors.ts';
export { MIGRATIONS } from './migrations/index.ts';
export * from './sqlite.ts';
export type * from './tables.ts';
