import type { NewRun } from '../../src/index.ts';

/** A queued run as the engine creates it: its row, one pending row per node, its `run.queued` event. */
export function queuedRun(o: { id: string; workflowId: string; at: string; nodeIds: string[]; idempotencyKey?: string }): NewRun {
  return {
    row: {
      id: o.id,
      workflow_id: o.workflowId,
      version: 1,
      status: 'queued',
      input: '{}',
      output: null,
      error: null,
      cost_usd: 0,
      created_by: null,
      created_at: o.at,
      started_at: null,
      finished_at: null,
      deadline_at: null,
      last_seq: 1,
      worker_id: null,
      lease_expires_at: null,
      cancel_requested: 0,
    },
    nodeIds: o.nodeIds,
    events: [{ run_id: o.id, seq: 1, type: 'run.queued', node_id: null, at: o.at, data: '{}' }],
    ...(o.idempotencyKey === undefined ? {} : { idempotency: { scope: o.workflowId, key: o.idempotencyKey } }),
  };
}
