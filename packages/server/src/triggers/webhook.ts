/**
 * `POST /api/v1/hooks/:workflowId/:triggerId`: a signed delivery starts a run.
 *
 * Order of work, cheapest refusal first: per-trigger rate limit → the trigger exists and has a
 * secret → the raw body (bounded by the body limit, never parsed yet) → the HMAC signature, in
 * constant time (401 and no run when it is missing or wrong) → the delivery id (a replay within
 * 24 h returns the first run) → the body parsed and mapped to the run's input by the trigger's
 * JSONata `input` → the run started (422 when the input violates the workflow's inputSchema).
 *
 * The route is registered in a plugin of its own so that it, alone, receives the raw bytes (the
 * signature is over the bytes as sent, not over a re-serialised JSON value).
 */

import { hookAcceptedSchema, hookFinishedSchema, hookParams, hookQuery } from '@trellis/client/schemas';
import { type RunRecord, TrellisError } from '@trellis/core';
import { sharedExpressionPool } from '@trellis/runtime';
import { claimDelivery, getTrigger, recordTriggerRun, setDeliveryRun, webhookSecretContext } from '@trellis/store';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpProblem } from '../http/problem.ts';
import { RateLimiter } from '../http/rate-limit.ts';
import { API_PREFIX, type Api } from '../http/route.ts';
import { traceParentField } from '../http/trace-context.ts';
import { assertAcceptingWork, engineOf } from '../streams/engine.ts';
import { DELIVERY_HEADER, SIGNATURE_HEADER, verifySignature } from './signature.ts';

const DELIVERY_ID = /^[\x21-\x7e]{1,200}$/;
/** Headers never copied into a run's input ($headers): credentials a proxy may have added. */
const HIDDEN_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization', SIGNATURE_HEADER]);

export interface WebhookLimits {
  /** Deliveries per trigger per minute (429 beyond). */
  perTriggerPerMinute: number;
  /** Largest delivery body, bytes (413 beyond). */
  bodyBytes: number;
}

function parseBody(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0) return null;
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const text = raw.toString('utf8');
  if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(text));
  if (type === 'application/json' || type.endsWith('+json') || type === '') {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      if (type === '') return text;
      throw new HttpProblem('BAD_REQUEST', `the body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return text;
}

function visibleHeaders(req: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (HIDDEN_HEADERS.has(k) || v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

export function webhookRoutes(api: Api, limits: WebhookLimits): void {
  const { ctx, app } = api;
  const limiter = new RateLimiter(limits.perTriggerPerMinute);
  const spec = {
    method: 'POST' as const,
    path: '/hooks/:workflowId/:triggerId',
    operationId: 'deliverWebhook',
    summary: 'Deliver a signed webhook: starts a run of the workflow (no bearer token)',
    description:
      "Authenticated by `X-Trellis-Signature: sha256=<hex HMAC-SHA256 of the raw body>` keyed by the trigger's secret. " +
      '`X-Trellis-Delivery` (optional) makes retries safe: the same id within 24 h returns the first run. ' +
      "The body (JSON, form or text) is mapped to the run's input by the trigger's `input` expression over $body, $headers and $query.",
    tags: ['triggers'],
    access: { kind: 'public' as const },
    params: hookParams,
    query: hookQuery,
    headers: [
      { name: 'X-Trellis-Signature', description: 'sha256=<hex HMAC-SHA256 of the raw body>', required: true },
      {
        name: 'X-Trellis-Delivery',
        description: 'A unique id per delivery (printable ASCII, ≤ 200); replays within 24 h return the first run.',
      },
    ],
    responses: {
      200: { description: 'the run finished within ?wait', schema: hookFinishedSchema },
      202: { description: 'the run was started (or, for a replayed delivery, had been)', schema: hookAcceptedSchema },
      401: { description: 'missing or wrong signature; no run was started' },
      404: { description: 'no such enabled webhook trigger' },
      413: { description: 'body too large' },
      422: { description: "the mapped input violates the workflow's inputSchema, or the mapping failed" },
      429: { description: 'too many deliveries for this trigger' },
    },
  };
  api.document(spec);

  void app.register(async (child) => {
    child.removeAllContentTypeParsers();
    child.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limits.bodyBytes }, (_req, body, done) => done(null, body));
    child.post(`${API_PREFIX}${spec.path}`, async (req: FastifyRequest, reply: FastifyReply) => {
      const params = hookParams.safeParse(req.params);
      const query = hookQuery.safeParse(req.query);
      if (!params.success) throw new HttpProblem('BAD_REQUEST', 'the hook URL is /api/v1/hooks/<workflowId>/<triggerId>');
      if (!query.success) throw new HttpProblem('BAD_REQUEST', '?wait must be a whole number of seconds from 0 to 30');
      const { workflowId, triggerId } = params.data;
      const wait = query.data.wait ?? 0;
      const retryIn = limiter.take(`${workflowId}/${triggerId}`);
      if (retryIn > 0)
        throw new HttpProblem('RATE_LIMITED', 'too many deliveries for this trigger; slow down', {
          headers: { 'retry-after': String(Math.ceil(retryIn / 1000)) },
        });
      const engine = engineOf(ctx);
      assertAcceptingWork(ctx);

      const trigger = await getTrigger(ctx.db, workflowId, triggerId);
      if (trigger?.definition.type !== 'webhook' || !trigger.enabled)
        throw new HttpProblem('NOT_FOUND', `no enabled webhook trigger '${triggerId}' on workflow '${workflowId}'`);
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const sigHeader = req.headers[SIGNATURE_HEADER];
      const signature = Array.isArray(sigHeader) ? sigHeader[0] : sigHeader;
      let secret: string | null = null;
      if (trigger.secret !== null) {
        try {
          secret = ctx.secrets
            ? await ctx.secrets.unseal(webhookSecretContext(workflowId, triggerId), trigger.secret)
            : trigger.secret;
        } catch (err) {
          api.app.log.error(
            { workflowId, triggerId, err: err instanceof Error ? err.message : String(err) },
            'webhook secret unreadable',
          );
          throw new HttpProblem(
            'UNAVAILABLE',
            "this server cannot read the webhook's signing secret (its secrets key differs from the one the secret was written with); nothing was started",
          );
        }
      }
      if (secret === null || !verifySignature(secret, raw, signature)) {
        ctx.failedAuthLimiter.take(req.ip);
        throw new HttpProblem(
          'UNAUTHORIZED',
          secret === null
            ? 'this webhook has no secret yet; its owner creates one with POST /api/v1/workflows/<id>/triggers/<triggerId>/secret'
            : signature === undefined
              ? 'missing X-Trellis-Signature: sign the raw body with HMAC-SHA256 and send sha256=<hex>'
              : 'X-Trellis-Signature does not match the body; sign the exact bytes sent with the current secret',
        );
      }

      const deliveryHeader = req.headers[DELIVERY_HEADER];
      const deliveryId = Array.isArray(deliveryHeader) ? deliveryHeader[0] : deliveryHeader;
      if (deliveryId !== undefined && !DELIVERY_ID.test(deliveryId))
        throw new HttpProblem('BAD_REQUEST', 'X-Trellis-Delivery must be 1–200 printable ASCII characters');

      let idempotencyKey: string | undefined;
      if (deliveryId !== undefined) {
        const claim = await claimDelivery(ctx.db, workflowId, triggerId, deliveryId, Date.now());
        if (claim.kind === 'replay' && claim.runId !== null) return answer(claim.runId, true, undefined);
        // New, or a replay racing the first delivery: the key makes both the same run.
        idempotencyKey = `webhook:${triggerId}:${deliveryId}:${claim.receivedAt}`;
      }

      const body = parseBody(raw, req.headers['content-type']);
      let input: unknown = body;
      const mapping = trigger.definition.input;
      if (mapping !== undefined) {
        try {
          // In the expression sandbox (worker threads, heap cap, deadline), never on this thread.
          const scope = {
            body,
            headers: visibleHeaders(req),
            query: Object.fromEntries(new URLSearchParams(req.url.split('?')[1] ?? '')),
          };
          [input] = await sharedExpressionPool().evaluate([{ source: mapping, scope }]);
        } catch (err) {
          const why = err instanceof Error ? err.message : String(err);
          throw new HttpProblem('INPUT_INVALID', `the trigger's input mapping failed: ${why}`);
        }
        if (input === undefined) input = {};
      }
      let runId: string;
      let replayed = false;
      let status: string;
      try {
        const r = await engine.startRun({
          workflowId,
          version: trigger.version,
          input,
          createdBy: `trigger:${triggerId}`,
          ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
          ...traceParentField(req.headers.traceparent),
        });
        runId = r.runId;
        replayed = !r.created;
        status = r.status;
      } catch (err) {
        if (err instanceof TrellisError && err.code === 'INPUT_INVALID')
          throw new HttpProblem('INPUT_INVALID', err.message.replace('the run input', "the webhook's mapped input"));
        throw err;
      }
      await recordTriggerRun(ctx.db, workflowId, runId, { id: triggerId, type: 'webhook', deliveryId: deliveryId ?? null });
      if (deliveryId !== undefined) await setDeliveryRun(ctx.db, workflowId, triggerId, deliveryId, runId);
      return answer(runId, replayed, status);

      async function answer(id: string, isReplay: boolean, knownStatus: string | undefined) {
        let record: RunRecord | undefined;
        if (wait > 0) {
          let timer: NodeJS.Timeout | undefined;
          const timedOut = new Promise<undefined>((resolve) => {
            timer = setTimeout(() => resolve(undefined), wait * 1000);
          });
          record = await Promise.race([engine.waitForRun(id, { orWaiting: true }), timedOut]);
          clearTimeout(timer);
        }
        if (record && (record.status === 'succeeded' || record.status === 'failed' || record.status === 'cancelled')) {
          reply.code(200).header('location', `${API_PREFIX}/workflow_runs/${id}`);
          return {
            runId: id,
            status: record.status,
            replayed: isReplay,
            output: record.output ?? null,
            error: record.error ?? null,
          };
        }
        const now = record?.status ?? knownStatus ?? (await engine.getRun(id))?.status ?? 'queued';
        reply.code(202).header('location', `${API_PREFIX}/workflow_runs/${id}`);
        return { runId: id, status: now, replayed: isReplay };
      }
    });
  });
}
