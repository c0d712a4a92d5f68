/** API shapes of secrets: names, scopes and descriptions — never a value. */
import { z } from 'zod';

export const secretInfoSchema = z.object({
  name: z.string(),
  scope: z.string().describe('`global` (every workflow may use it) or `workflow:<id>` (that workflow only).'),
  description: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedBy: z.string(),
  updatedAt: z.string(),
});

export const secretListSchema = z.object({
  items: z.array(secretInfoSchema),
  available: z.boolean().describe('False when the server has no secrets key (PostgreSQL without TRELLIS_SECRET_KEY).'),
});

export const secretNameParams = z.object({
  name: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'a secret name is letters, digits and _, not starting with a digit, at most 128')
    .describe('Referenced in definitions as {{ $secrets.NAME }}.'),
});

export const putSecretBody = z
  .object({
    value: z
      .string()
      .min(1, 'the value is empty')
      .max(65_536)
      .describe('The secret value. Stored encrypted; no response ever returns it.'),
    description: z.string().max(500).nullable().optional(),
    scope: z
      .string()
      .max(220)
      .regex(/^(global|workflow:[A-Za-z0-9_-]{1,200})$/, 'scope is "global" or "workflow:<workflow id>"')
      .optional()
      .describe('Default `global` (administrators only). `workflow:<id>`: the owner of that workflow may set it.'),
  })
  .strict();
