/** Triggers of a workflow: list with next fire times and last runs; create or rotate a webhook secret. */

import { idParams, secretCreatedSchema, triggerListSchema, triggerParams } from '@trellis/client/schemas';
import { nextFireTimes } from '@trellis/core';
import { getTrigger, listTriggers, setTriggerSecret, webhookSecretContext } from '@trellis/store';
import { HttpProblem } from '../http/problem.ts';
import { API_PREFIX, type Api } from '../http/route.ts';
import { newWebhookSecret } from './signature.ts';

export function hookPath(workflowId: string, triggerId: string): string {
  return `${API_PREFIX}/hooks/${encodeURIComponent(workflowId)}/${encodeURIComponent(triggerId)}`;
}

export function triggerRoutes(api: Api): void {
  const { ctx } = api;

  api.route({
    method: 'GET',
    path: '/workflows/:id/triggers',
    operationId: 'listTriggers',
    summary: "The workflow's triggers: next fire times, last run, webhook URL",
    tags: ['triggers'],
    access: { kind: 'workflow', role: 'viewer', workflowId: ({ params }) => params.id },
    params: idParams,
    responses: { 200: { description: 'the triggers of the latest version', schema: triggerListSchema } },
    handler: async ({ workflow }) => {
      const w = workflow!;
      const triggers = await listTriggers(ctx.db, w.id);
      const runIds = triggers.map((t) => t.lastRunId).filter((id): id is string => id !== null);
      const runs = new Map(
        runIds.length === 0
          ? []
          : (await ctx.db.selectFrom('runs').select(['id', 'status', 'created_at']).where('id', 'in', runIds).execute()).map(
              (r) => [r.id, { id: r.id, status: r.status, createdAt: r.created_at }],
            ),
      );
      const now = Date.now();
      return {
        items: triggers.map((t) => {
          const d = t.definition;
          const upcoming =
            d.type === 'schedule' && t.enabled && t.nextFireAt !== null
              ? [
                  t.nextFireAt,
                  ...nextFireTimes(d.cron, d.timezone, Math.max(Date.parse(t.nextFireAt), now), 4).map((ms) =>
                    new Date(ms).toISOString(),
                  ),
                ]
              : [];
          const path = hookPath(w.id, t.id);
          return {
            id: t.id,
            type: t.type,
            enabled: t.enabled,
            version: t.version,
            definition: d as unknown as Record<string, unknown>,
            nextFireAt: t.type === 'schedule' && t.enabled ? t.nextFireAt : null,
            nextFireTimes: upcoming,
            lastFiredAt: t.lastFiredAt,
            lastRun: t.lastRunId ? (runs.get(t.lastRunId) ?? null) : null,
            ...(t.type === 'webhook'
              ? {
                  webhook: {
                    url: ctx.baseUrl ? `${ctx.baseUrl.replace(/\/$/, '')}${path}` : path,
                    hasSecret: t.hasSecret,
                    secretCreatedAt: t.secretCreatedAt,
                  },
                }
              : {}),
          };
        }),
      };
    },
  });

  api.route({
    method: 'POST',
    path: '/workflows/:id/triggers/:triggerId/secret',
    operationId: 'createTriggerSecret',
    summary: "Create or rotate a webhook trigger's signing secret (shown once)",
    description:
      'The old secret stops working at once. Deliveries are signed with `X-Trellis-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.',
    tags: ['triggers'],
    access: { kind: 'workflow', role: 'editor', workflowId: ({ params }) => params.id },
    params: triggerParams,
    responses: {
      201: { description: 'the new secret', schema: secretCreatedSchema },
      404: { description: 'no webhook trigger with this id in the latest version' },
    },
    handler: async ({ workflow, params, reply }) => {
      const w = workflow!;
      if (w.deletedAt !== null) throw new HttpProblem('NOT_FOUND', `workflow '${w.id}' was deleted`);
      const t = await getTrigger(ctx.db, w.id, params.triggerId);
      if (t?.type !== 'webhook')
        throw new HttpProblem(
          'NOT_FOUND',
          `workflow '${w.id}' has no webhook trigger '${params.triggerId}'; add { "id": "${params.triggerId}", "type": "webhook" } to its "triggers" and save`,
        );
      const secret = newWebhookSecret();
      // Encrypted at rest with the secrets key (it must be readable to check signatures).
      const stored = ctx.secrets ? await ctx.secrets.seal(webhookSecretContext(w.id, t.id), secret) : secret;
      await setTriggerSecret(ctx.db, w.id, t.id, stored);
      reply.code(201);
      return {
        triggerId: t.id,
        secret,
        createdAt: new Date().toISOString(),
        header: 'X-Trellis-Signature: sha256=<hex HMAC-SHA256 of the raw body>',
      };
    },
  });
}
