/** API shapes of workflows, versions, validation and permissions. */
import { ROLES, RUN_STATUSES, workflowDefinitionSchema } from '@trellis/core';
import { z } from 'zod';
import { validationErrorSchema } from './common.ts';

/**
 * The body of POST/PUT: any JSON object. Its shape is checked by the compiler, not here, so a
 * bad definition gets 422 with every problem and its SPEC §2 code rather than a bare 400.
 */
export const definitionBody = z.record(z.string(), z.unknown());
/** What the document shows for that body. */
export const definitionDoc = workflowDefinitionSchema;

export const compiledSummarySchema = z.object({
  order: z.array(z.string()),
  levels: z.array(z.array(z.string())),
  entries: z.array(z.string()),
  sinks: z.array(z.string()),
  criticalPath: z.object({ nodes: z.array(z.string()), estimatedMs: z.number() }),
  nodeCount: z.number(),
  edgeCount: z.number(),
});

export const roleSchema = z.enum(ROLES);

export const workflowSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  owner: z.string(),
  latestVersion: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** A workflow in a list: its summary and its newest run, if any. */
export const workflowListItemSchema = workflowSummarySchema.extend({
  lastRun: z
    .object({ id: z.string(), status: z.enum(RUN_STATUSES), createdAt: z.string() })
    .nullable()
    .describe('The newest run of the workflow, or null if it never ran.'),
  triggers: z
    .object({ schedule: z.number().int(), webhook: z.number().int() })
    .optional()
    .describe('Active triggers of the latest version, by type.'),
});

export const workflowDetailSchema = workflowSummarySchema.extend({
  version: z.number().int().describe('The version shown (the latest).'),
  definition: z.unknown(),
  compiled: compiledSummarySchema.nullable().describe('Null if the stored definition no longer compiles.'),
  role: roleSchema.describe("The caller's role (owner for administrators)."),
});

export const createdWorkflowSchema = workflowSummarySchema.extend({
  version: z.number().int(),
  compiled: compiledSummarySchema,
  warnings: z.array(validationErrorSchema),
});

export const validateResultSchema = z.object({
  valid: z.boolean(),
  errors: z.array(validationErrorSchema),
  warnings: z.array(validationErrorSchema),
  compiled: compiledSummarySchema.nullable(),
});

export const versionParams = z.object({
  id: z.string().min(1).max(200),
  v: z.coerce.number().int().min(1).max(1_000_000_000).describe('Version number, from 1.'),
});

export const versionSummarySchema = z.object({ version: z.number().int(), createdBy: z.string(), createdAt: z.string() });
export const versionDetailSchema = versionSummarySchema.extend({ workflowId: z.string(), definition: z.unknown() });
export const versionListSchema = z.object({ items: z.array(versionSummarySchema) });

export const permissionSchema = z.object({
  principal: z
    .string()
    .regex(/^[A-Za-z0-9_.@-]{1,100}$/, 'a principal name: letters, digits, _ . @ - (at most 100)')
    .describe('A principal (user name).'),
  role: roleSchema,
});
export const permissionListSchema = z.array(permissionSchema).max(1000);

export const listWorkflowsQuery = (maxPage: number) =>
  z.object({
    limit: z.coerce.number().int().min(1).max(maxPage).default(50).describe(`Page size, 1–${maxPage} (default 50).`),
    cursor: z.string().min(1).max(500).optional().describe('`nextCursor` of the previous page.'),
    q: z.string().max(200).optional().describe('Filter: a substring of the name or description.'),
  });

/** `GET /workflows`: a page of workflows. */
export const workflowPageSchema = z.object({
  items: z.array(workflowListItemSchema),
  nextCursor: z.string().nullable().describe('Null on the last page.'),
});
