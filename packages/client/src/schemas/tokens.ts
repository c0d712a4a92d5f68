/** API shapes of API tokens. */
import { z } from 'zod';

export const tokenInfoSchema = z.object({
  id: z.string(),
  principal: z.string(),
  name: z.string().describe('A label for the token.'),
  prefix: z.string().describe('The first characters, to recognise it.'),
  isAdmin: z.boolean(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
});

export const tokenListSchema = z.object({ items: z.array(tokenInfoSchema) });

export const createTokenBody = z
  .object({
    name: z.string().min(1).max(100).optional().describe('A label (default: the principal).'),
    principal: z
      .string()
      .regex(/^[A-Za-z0-9_.@-]{1,100}$/)
      .optional()
      .describe('Administrators only: make a token for another principal (default: the caller).'),
    admin: z.boolean().optional().describe('Administrators only: an administrator token.'),
    expiresInDays: z.number().positive().max(3650).optional(),
  })
  .strict()
  .default({});

export const createdTokenSchema = z.object({
  token: z.string().describe('The secret, shown only in this response.'),
  info: tokenInfoSchema,
});

export const meSchema = z.object({ name: z.string(), isAdmin: z.boolean(), tokenId: z.string() });

/** `POST /sign-in`: a one-time code from the link `trellis serve` prints. */
export const signInBody = z
  .object({ code: z.string().min(1).max(200).describe('The one-time code from the sign-in link (`#code=…`).') })
  .strict();
