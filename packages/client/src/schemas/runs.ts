/** API shapes of runs, gate decisions, events and chat (SPEC §1, §4, §5). */
import { ATTEMPT_STATUSES, EVENT_TYPES, NODE_STATUSES, RUN_STATUSES } from '@trellis/core';
import { z } from 'zod';
import { errorInfoSchema } from './common.ts';
import { runTriggerSchema } from './triggers.ts';

export const runStatusSchema = z.enum(RUN_STATUSES);

export const startRunBody = z
  .object({
    input: z.unknown().optional().describe("The run's input ($context); checked against the workflow's inputSchema."),
    version: z.number().int().min(1).optional().describe('Default: the latest version.'),
  })
  .strict()
  .default({});

export const startedRunSchema = z.object({
  id: z.string(),
  status: runStatusSchema,
  workflowId: z.string(),
  version: z.number().int(),
  created: z.boolean().describe('False when the Idempotency-Key matched an earlier run.'),
});

const attemptSchema = z.object({
  attempt: z.number().int(),
  status: z.enum(ATTEMPT_STATUSES),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  error: errorInfoSchema.optional(),
  costUsd: z.number().optional(),
  usage: z.object({ inputTokens: z.number().optional(), outputTokens: z.number().optional() }).optional(),
  reusedFrom: z.string().optional().describe('Copied by a retry from this run.'),
});

const itemRunSchema = z.object({
  status: z.enum(NODE_STATUSES),
  output: z.unknown(),
  error: errorInfoSchema.nullable(),
  costUsd: z.number(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  prompt: z.string().optional(),
  nextAttemptAt: z.string().optional(),
  attempts: z.array(attemptSchema),
  childRunId: z.string().optional().describe('A workflow body: the child run this item started.'),
});

const nodeRunSchema = z.object({
  status: z.enum(NODE_STATUSES),
  input: z.unknown(),
  output: z.unknown(),
  error: errorInfoSchema.nullable(),
  costUsd: z.number(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  prompt: z.string().optional(),
  nextAttemptAt: z.string().optional(),
  attempts: z.array(attemptSchema),
  reusedFrom: z.string().optional().describe('Retries: not executed; output and attempts come from this run.'),
  costSavedUsd: z.number().optional().describe('Retries: what executing the node again would have cost.'),
  notReused: z.string().optional().describe('Retries: why the node runs again instead of being reused.'),
  reuseNote: z.string().optional().describe('Retries: a remark on a reused node (an irreversible effect that stands).'),
  approvalRequired: z
    .string()
    .optional()
    .describe('Retries: the node has irreversible side effects and runs again only once approved; why.'),
  itemCount: z.number().int().optional().describe('A map node: how many items `items` resolved to.'),
  items: z
    .record(z.string(), itemRunSchema)
    .optional()
    .describe('A map node: its items that have started, by index (items not yet started are absent).'),
  childRunId: z.string().optional().describe('A workflow node: the child run it started.'),
});

export const runSummarySchema = z.object({
  id: z.string(),
  workflowId: z.string(),
  version: z.number().int(),
  status: runStatusSchema,
  error: errorInfoSchema.nullable(),
  costUsd: z.number(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  lastSeq: z.number().int(),
  trigger: runTriggerSchema.optional(),
  retryOf: z.string().nullable().describe('The run this one retries.'),
  costSavedUsd: z.number().describe('What reusing earlier results saved; `costUsd` counts only what ran.'),
  parentRunId: z.string().optional().describe('A child run: the run whose workflow node started it.'),
  parentNodeId: z.string().optional().describe('A child run: the workflow (or map) node that started it.'),
  parentItem: z.number().int().optional().describe('A child run started by a map item: its index.'),
});

export const runRecordSchema = runSummarySchema.extend({
  input: z.unknown(),
  output: z.unknown(),
  retries: z.array(z.string()).describe('Retries of this run, oldest first.'),
  nodes: z.record(z.string(), nodeRunSchema),
});

export const retryRunBody = z
  .object({
    from: z
      .array(z.string().min(1).max(200))
      .min(1)
      .max(10_000)
      .optional()
      .describe('Nodes to run again, with everything downstream of them. Default: the failed and cancelled nodes.'),
    version: z
      .enum(['same', 'latest'])
      .default('same')
      .describe('"latest": run the newest version, reusing a node only if it and everything upstream of it are unchanged.'),
  })
  .strict()
  .default({ version: 'same' });

export const retriedRunSchema = z.object({
  id: z.string(),
  status: runStatusSchema,
  retryOf: z.string(),
  workflowId: z.string(),
  version: z.number().int(),
  reused: z.number().int().describe('Nodes reused instead of executed.'),
  costSavedUsd: z.number(),
  created: z.boolean().describe('False when the Idempotency-Key matched an earlier retry of this run.'),
});

export const cancelResultSchema = z.object({ id: z.string(), status: runStatusSchema });

export const gateParams = z.object({
  id: z.string().min(1).max(200),
  nodeId: z.string().min(1).max(200).describe('The human_gate node.'),
});

export const itemGateParams = gateParams.extend({
  item: z.coerce.number().int().min(0).max(1_000_000).describe("The item's 0-based index."),
});

export const decisionBody = z
  .object({
    comment: z.string().max(10_000).optional(),
    data: z.unknown().optional().describe('Approve only: becomes the gate output `data`.'),
  })
  .strict()
  .default({});

export const decisionResultSchema = z.object({
  runId: z.string(),
  nodeId: z.string(),
  item: z.number().int().optional(),
  decision: z.enum(['approved', 'rejected']),
  by: z.string(),
});

export const runEventSchema = z.object({
  seq: z.number().int(),
  runId: z.string(),
  type: z.enum(EVENT_TYPES),
  nodeId: z.string().optional(),
  item: z.number().int().optional().describe("An event of one item of a map node: the item's index."),
  at: z.string(),
  data: z.unknown(),
});

export const eventsQuery = (max: number) =>
  z.object({
    after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0).describe('Return events with seq > after.'),
    limit: z.coerce.number().int().min(1).max(max).default(max).describe(`At most this many (1–${max}).`),
    token: z
      .string()
      .max(512)
      .optional()
      .describe('The API token, for an EventSource (Accept: text/event-stream) only; every other request sends the header.'),
  });

export const eventListSchema = z.object({ items: z.array(runEventSchema) });

export const wsQuery = z.object({
  after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0).describe('Replay events with seq > after.'),
  token: z.string().max(512).optional().describe('The API token, when the client cannot send an Authorization header.'),
});

/**
 * Messages the WebSocket sends: a closed union (`event`, then `end` after the terminal event;
 * or `error` when the stream cannot go on without a gap — then the server closes with 1011 and
 * the client reconnects with `after=resumeAfter`).
 */
export const socketMessageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('event'), event: runEventSchema }),
  z.object({ kind: z.literal('end'), status: runStatusSchema, lastSeq: z.number().int() }),
  z.object({ kind: z.literal('error'), error: errorInfoSchema, resumeAfter: z.number().int() }),
]);
export type SocketMessage = z.output<typeof socketMessageSchema>;

export const chatBody = z
  .object({
    workflowId: z.string().min(1).max(200),
    message: z.string().min(1).max(100_000).describe('Becomes the run input `{ message }`.'),
    version: z.number().int().min(1).optional(),
  })
  .strict();

export const chatResultSchema = z.object({
  runId: z.string(),
  status: runStatusSchema,
  output: z.unknown(),
  error: errorInfoSchema.nullable(),
});

/** `GET /workflows/:id/runs`: a page of runs, newest first. */
export const runPageSchema = z.object({
  items: z.array(runSummarySchema),
  nextCursor: z.string().nullable().describe('Null on the last page.'),
});
