/** API shapes of templates. */
import { z } from 'zod';

export const templateSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  builtin: z.boolean().describe('Shipped with Trellis (the examples).'),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  definition: z.unknown(),
});

export const templateListSchema = z.object({ items: z.array(templateSchema) });

export const createTemplateBody = z.object({
  workflowId: z.string().min(1).max(200).describe('The workflow to copy (its latest version unless `version`).'),
  version: z.number().int().min(1).optional(),
  name: z.string().min(1).max(200).optional().describe("Default: the workflow's name."),
  description: z.string().max(10_000).optional(),
});

export const instantiateBody = z
  .object({ name: z.string().min(1).max(200).optional().describe("The new workflow's name (default: the template's).") })
  .default({});
