/** API shapes of triggers (schedules and webhooks) and webhook deliveries. */
import { RUN_STATUSES } from '@trellis/core';
import { z } from 'zod';
import { idSchema } from './common.ts';

export const runTriggerSchema = z
  .union([
    z.object({ id: z.string(), type: z.literal('schedule'), tick: z.string().describe('The tick this run is for (ISO).') }),
    z.object({
      id: z.string(),
      type: z.literal('webhook'),
      deliveryId: z.string().nullable().describe('X-Trellis-Delivery of the request, if it had one.'),
    }),
  ])
  .describe('What started the run; absent for runs started through the API, the CLI or chat.');

export const triggerParams = z.object({
  id: idSchema.describe('The workflow id.'),
  triggerId: z.string().min(1).max(64).describe("The trigger's id in the definition."),
});

export const hookParams = z.object({
  workflowId: idSchema.describe('The workflow id.'),
  triggerId: z.string().min(1).max(64).describe("The webhook trigger's id in the definition."),
});

export const hookQuery = z.object({
  wait: z.coerce
    .number()
    .int()
    .min(0)
    .max(30)
    .optional()
    .describe('Seconds (≤ 30) to wait for the run to finish: 200 with its output if it does, else 202.'),
});

const lastRunSchema = z
  .object({ id: z.string(), status: z.enum(RUN_STATUSES), createdAt: z.string() })
  .nullable()
  .describe('The newest run this trigger started.');

export const triggerInfoSchema = z.object({
  id: z.string(),
  type: z.enum(['schedule', 'webhook']),
  enabled: z.boolean(),
  version: z.number().int().describe('The workflow version that declared it (runs start on it).'),
  definition: z.record(z.string(), z.unknown()),
  nextFireAt: z.string().nullable().describe('Schedules: the next tick (ISO); null for webhooks.'),
  nextFireTimes: z.array(z.string()).describe('Schedules: the next five ticks (ISO).'),
  lastFiredAt: z.string().nullable(),
  lastRun: lastRunSchema,
  webhook: z
    .object({
      url: z.string().describe('Where to POST deliveries (path under this server, or absolute with a base URL).'),
      hasSecret: z.boolean(),
      secretCreatedAt: z.string().nullable(),
    })
    .optional(),
});

export const triggerListSchema = z.object({ items: z.array(triggerInfoSchema) });

export const secretCreatedSchema = z.object({
  triggerId: z.string(),
  secret: z.string().describe('The signing secret. Shown this once: store it in the sender.'),
  createdAt: z.string(),
  header: z.string().describe('The header a delivery carries: X-Trellis-Signature: sha256=<hex HMAC-SHA256 of the raw body>.'),
});

export const hookAcceptedSchema = z.object({
  runId: z.string(),
  status: z.string(),
  replayed: z.boolean().describe('True when X-Trellis-Delivery matched a delivery of the last 24 h (its run is returned).'),
});

export const hookFinishedSchema = hookAcceptedSchema.extend({
  output: z.unknown(),
  error: z.unknown().nullable(),
});
