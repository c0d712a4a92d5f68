export { createRunState, DEFAULT_MAX_RECOVERIES, decide, GATE_TIMEOUT_PRINCIPAL } from './decide.ts';
export { CHILD_RUN_PRINCIPAL, ITEM_STATUS, mapOutput } from './map.ts';
export { type PersistedItemState, type PersistedNodeState, type PersistedRunState, rebuildRunState } from './rebuild.ts';
export { retryDelayMs, retryDelayPolicy, willRetry, willRetryPolicy } from './retry.ts';
export type * from './types.ts';
