/**
 * API tokens over HTTP (the CLI's `trellis token` does the same offline): anyone lists, makes
 * and revokes their own tokens; administrators manage everyone's and may mint admin tokens.
 */

import { createdTokenSchema, createTokenBody, idParams, meSchema, tokenListSchema } from '@trellis/client/schemas';
import { createToken, listTokens, revokeToken } from '@trellis/store';
import { forgetToken } from '../http/auth.ts';
import { HttpProblem } from '../http/problem.ts';
import type { Api } from '../http/route.ts';

export function tokenRoutes(api: Api): void {
  const { ctx } = api;

  api.route({
    method: 'GET',
    path: '/me',
    operationId: 'whoAmI',
    summary: 'The principal the token belongs to (what the console shows after sign-in)',
    tags: ['tokens'],
    access: { kind: 'user' },
    responses: { 200: { description: 'the caller', schema: meSchema } },
    handler: async ({ principal }) => ({ name: principal.name, isAdmin: principal.isAdmin, tokenId: principal.tokenId }),
  });

  api.route({
    method: 'GET',
    path: '/tokens',
    operationId: 'listTokens',
    summary: "The caller's tokens (administrators: everyone's), newest first; never the secrets",
    tags: ['tokens'],
    access: { kind: 'user' },
    responses: { 200: { description: 'tokens', schema: tokenListSchema } },
    handler: async ({ principal }) => ({ items: await listTokens(ctx.db, principal.isAdmin ? undefined : principal.name) }),
  });

  api.route({
    method: 'POST',
    path: '/tokens',
    operationId: 'createToken',
    summary: 'Make a token; the secret is in this response only',
    tags: ['tokens'],
    access: { kind: 'user' },
    body: createTokenBody,
    responses: { 201: { description: 'created', schema: createdTokenSchema } },
    handler: async ({ body, principal, reply }) => {
      if ((body.admin || (body.principal !== undefined && body.principal !== principal.name)) && !principal.isAdmin)
        throw new HttpProblem('FORBIDDEN', 'only administrators make tokens for others or administrator tokens');
      const owner = body.principal ?? principal.name;
      const created = await createToken(ctx.db, {
        principal: owner,
        name: body.name ?? owner,
        admin: body.admin === true,
        expiresAt: body.expiresInDays ? new Date(Date.now() + body.expiresInDays * 86_400_000).toISOString() : null,
      });
      reply.code(201);
      return created;
    },
  });

  api.route({
    method: 'DELETE',
    path: '/tokens/:id',
    operationId: 'revokeToken',
    summary: 'Revoke a token (your own; administrators: any)',
    tags: ['tokens'],
    access: { kind: 'user' },
    params: idParams,
    responses: { 204: { description: 'revoked' } },
    handler: async ({ params, principal, reply }) => {
      const all = await listTokens(ctx.db, principal.isAdmin ? undefined : principal.name);
      const t = all.find((x) => x.id === params.id);
      if (!t) throw new HttpProblem('NOT_FOUND', `no token '${params.id}' of yours`);
      if (t.revokedAt !== null) throw new HttpProblem('CONFLICT', `token '${params.id}' is already revoked`);
      await revokeToken(ctx.db, t.id);
      forgetToken(ctx, t.id);
      // Streams opened with this token end now, not at the next periodic check.
      void ctx.streamAccess.checkNow();
      reply.code(204);
      return null;
    },
  });
}
