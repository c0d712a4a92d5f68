export * from './inject.ts';
export * from './redactor.ts';
export * from './source.ts';
