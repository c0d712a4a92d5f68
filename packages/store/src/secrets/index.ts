export * from './crypto.ts';
export * from './key-source.ts';
export * from './vault.ts';
