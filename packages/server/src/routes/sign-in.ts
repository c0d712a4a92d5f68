/**
 * Console sign-in: the link `trellis serve` prints carries a one-time code (5 minutes, single
 * use, stored hashed); the console exchanges it here for a session token. The route needs no
 * token (that is its point); failed exchanges count against the caller's address like failed
 * tokens do.
 */

import { createdTokenSchema, signInBody } from '@trellis/client/schemas';
import { exchangeSignInCode } from '@trellis/store';
import { HttpProblem } from '../http/problem.ts';
import type { Api } from '../http/route.ts';

export function signInRoutes(api: Api): void {
  const { ctx } = api;
  api.route({
    method: 'POST',
    path: '/sign-in',
    operationId: 'signIn',
    summary: 'Exchange a one-time sign-in code (from the link `trellis serve` prints) for a session token',
    description:
      'The code works once and for 5 minutes. The answer carries a new token named "console sign-in" that expires after 12 hours. A used, expired or unknown code is refused with 401 and the code SIGN_IN_CODE_USED, SIGN_IN_CODE_EXPIRED or SIGN_IN_CODE_INVALID.',
    tags: ['tokens'],
    access: { kind: 'public' },
    body: signInBody,
    responses: { 200: { description: 'the session token (shown only in this response)', schema: createdTokenSchema } },
    handler: async ({ body, req }) => {
      const waitMs = ctx.failedAuthLimiter.take(`ip:${req.ip}`);
      if (waitMs > 0)
        throw new HttpProblem(
          'RATE_LIMITED',
          `too many sign-in attempts from this address; retry in ${Math.ceil(waitMs / 1000)} s`,
          { headers: { 'retry-after': String(Math.ceil(waitMs / 1000)) } },
        );
      const result = await exchangeSignInCode(ctx.db, body.code);
      if (!result.ok) throw new HttpProblem(result.code, result.message);
      return { token: result.token, info: result.info };
    },
  });
}
