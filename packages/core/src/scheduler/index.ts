export { createRunState, DEFAULT_MAX_RECOVERIES, decide, GATE_TIMEOUT_PRINCIPAL } from './decide.ts';
export { type PersistedNodeState, type PersistedRunState, rebuildRunState } from './rebuild.ts';
export { retryDelayMs, willRetry } from './retry.ts';
export type * from './types.ts';
