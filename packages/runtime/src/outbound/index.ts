export * from './address-policy.ts';
export * from './guard.ts';
