/** Schemas shared by several routes: ids, pagination, lists. */
import { z } from 'zod';

/** An id in a path. Bounded so a megabyte-long "id" is a 400, not a database query. */
export const idSchema = z.string().min(1).max(200);

export const idParams = z.object({ id: idSchema.describe('The resource id.') });

/** `limit` and `cursor`; `maxPageSize` bounds `limit` (400 beyond, saying the maximum). */
export function pageQuery(maxPageSize: number) {
  return z.object({
    limit: z.coerce.number().int().min(1).max(maxPageSize).default(50).describe(`Page size, 1–${maxPageSize} (default 50).`),
    cursor: z.string().min(1).max(500).optional().describe('`nextCursor` of the previous page.'),
  });
}

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable().describe('Null on the last page.') });
}

export const validationErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  nodes: z.array(z.string()).optional(),
  path: z.string().optional(),
});

export const errorInfoSchema = z.object({
  code: z.string(),
  message: z.string(),
  retryable: z.boolean().optional(),
  retryAfterMs: z.number().optional(),
  details: z.unknown().optional(),
});

/** `GET /healthz`. */
export const healthSchema = z.object({ status: z.literal('ok') });

/** The body of every error response (RFC 9457 problem+json). */
export const problemSchema = z.object({
  type: z.string().optional(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string().describe('A stable code a client can switch on (e.g. NOT_FOUND, DEFINITION_INVALID).'),
  instance: z.string().optional(),
  requestId: z.string().optional(),
  errors: z
    .array(validationErrorSchema)
    .optional()
    .describe('The compiler’s or the request schema’s problems, each with a path.'),
});
