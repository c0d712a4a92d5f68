/**
 * Keeps the stored triggers equal to those of a workflow's latest version: called after every save
 * and on delete, then wakes the schedule loop so a new or changed schedule is seen at once.
 */
import type { TriggerDefinition } from '@trellis/core';
import { removeTriggers, syncTriggers } from '@trellis/store';
import type { ServerContext } from '../http/context.ts';

export async function syncWorkflowTriggers(
  ctx: ServerContext,
  workflowId: string,
  version: number,
  triggers: readonly TriggerDefinition[] | undefined,
): Promise<void> {
  await syncTriggers(ctx.db, workflowId, version, triggers ?? [], Date.now());
  ctx.triggers?.wake();
}

export async function stopWorkflowTriggers(ctx: ServerContext, workflowId: string): Promise<void> {
  await removeTriggers(ctx.db, workflowId);
  ctx.triggers?.wake();
}
