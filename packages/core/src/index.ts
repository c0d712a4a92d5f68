export * from './compiled.ts';
export * from './definition.ts';
export * from './errors.ts';
export * from './events.ts';
export type * from './executor.ts';
export type * from './run-record.ts';
export * from './status.ts';
export * from './scheduler/index.ts';
