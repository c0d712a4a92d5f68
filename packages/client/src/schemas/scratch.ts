/** API shapes of the builder's test runs (scratch runs) and of the run history across workflows. */
import { RUN_STATUSES } from '@trellis/core';
import { z } from 'zod';
import { runRecordSchema, runSummarySchema } from './runs.ts';

export const TEST_MODES = ['node', 'upTo'] as const;

export const testRunBody = z
  .object({
    node: z.string().min(1).max(200).describe('The node to test.'),
    mode: z
      .enum(TEST_MODES)
      .default('node')
      .describe(
        '"node": run only this node, reusing its upstream nodes\' outputs from `fromRun` (those unchanged since); "upTo": run it and everything upstream of it.',
      ),
    definition: z
      .unknown()
      .optional()
      .describe("The definition to test (the builder's unsaved draft). Default: the workflow's latest version."),
    fromRun: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("A run of this workflow whose data the test uses (pinned). Default: the workflow's newest finished run."),
    input: z
      .unknown()
      .optional()
      .describe('"upTo" (or a node with no upstream): the run input. Default: the input of `fromRun`, else {}.'),
    waitMs: z
      .number()
      .int()
      .min(0)
      .max(30_000)
      .default(15_000)
      .describe('How long to wait for the test run to finish before answering 202 (read it later with GET test_runs/:runId).'),
  })
  .strict();

export const testRunResultSchema = z.object({
  id: z.string().describe("The test run (a scratch run: not in the workflow's history, deleted after 24 hours)."),
  workflowId: z.string(),
  node: z.string(),
  mode: z.enum(TEST_MODES),
  fromRun: z.string().nullable().describe('The run whose outputs were reused (null when nothing was reused).'),
  finished: z.boolean().describe('False: still running after waitMs (202); read it again later.'),
  note: z.string().optional().describe('Why the run ended as it did, when the test stopped it (a gate or a question).'),
  record: runRecordSchema,
});

export const testRunStatusSchema = testRunResultSchema.pick({ id: true, workflowId: true, finished: true, record: true });

export const testRunParams = z.object({
  id: z.string().min(1).max(200),
  runId: z.string().min(1).max(200).describe('A test run of this workflow.'),
});

const isoTime = z
  .string()
  .max(64)
  .refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO-8601 time, e.g. 2026-12-01T00:00:00Z')
  .transform((s) => new Date(s).toISOString());

export const runHistoryQuery = (max: number) =>
  z.object({
    workflowId: z.string().min(1).max(200).optional().describe("Only this workflow's runs."),
    status: z
      .string()
      .max(200)
      .optional()
      .transform((s, ctx) => {
        if (s === undefined || s === '') return undefined;
        const list = s.split(',').map((x) => x.trim());
        const bad = list.filter((x) => !(RUN_STATUSES as readonly string[]).includes(x));
        if (bad.length > 0) {
          ctx.addIssue({ code: 'custom', message: `unknown status ${bad.join(', ')}; use ${RUN_STATUSES.join(', ')}` });
          return z.NEVER;
        }
        return list as (typeof RUN_STATUSES)[number][];
      })
      .describe(`Comma-separated statuses (${RUN_STATUSES.join(', ')}).`),
    since: isoTime.optional().describe('Created at or after this time.'),
    until: isoTime.optional().describe('Created before this time.'),
    origin: z
      .enum(['manual', 'schedule', 'webhook'])
      .optional()
      .describe('How the runs started: through the API, or by a trigger.'),
    topLevel: z
      .enum(['true', 'false'])
      .optional()
      .transform((v) => v === 'true')
      .describe('"true": leave out child runs (started by a workflow or map node).'),
    limit: z.coerce.number().int().min(1).max(max).default(50).describe(`Page size, 1–${max} (default 50).`),
    cursor: z.string().min(1).max(500).optional().describe('`nextCursor` of the previous page.'),
  });

export const runHistoryItemSchema = runSummarySchema.extend({
  workflowName: z.string(),
  inputPreview: z.string().describe('The input as JSON, cut to 200 characters.'),
});

/** `GET /workflow_runs`: a page of runs across workflows. */
export const runHistoryPageSchema = z.object({
  items: z.array(runHistoryItemSchema),
  nextCursor: z.string().nullable().describe('Null on the last page.'),
});
