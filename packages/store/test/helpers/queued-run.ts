import type { NewRun } from '../../src/index.ts';

/**
 * A queued run as the engine creates it, in domain values: one pending node per node id, its
 * `run.queued` event; `at` in epoch ms.
 */
export function queuedRun(o: { id: string; workflowId: string; at: number; nodeIds: string[]; idempotencyKey?: string }): NewRun {
  return {
    id: o.id,
    workflowId: o.workflowId,
    version: 1,
    input: {},
    createdBy: null,
    createdAt: o.at,
    deadlineAt: null,
    claim: null,
    nodeIds: o.nodeIds,
    events: [
      {
        seq: 1,
        runId: o.id,
        type: 'run.queued',
        at: new Date(o.at).toISOString(),
        data: { workflowId: o.workflowId, version: 1 },
      },
    ],
    ...(o.idempotencyKey === undefined ? {} : { idempotency: { scope: o.workflowId, key: o.idempotencyKey } }),
  };
}
