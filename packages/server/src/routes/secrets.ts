/**
 * Secrets over HTTP. Values go in (PUT) and never come back out: every response carries names,
 * scopes, descriptions and times only. Rights:
 *
 * - global secrets (usable by every workflow and by agent/tool-server registrations): administrators;
 * - `workflow:<id>` secrets: administrators and the owners of that workflow;
 * - listing: administrators see all; others see global secrets and those of workflows they own
 *   or edit (so the editor can offer their names).
 */

import { putSecretBody, secretInfoSchema, secretListSchema, secretNameParams } from '@trellis/client/schemas';
import { getRole, getWorkflow, type Principal, parseSecretScope, roleAtLeast, type SecretInfo } from '@trellis/store';
import { HttpProblem } from '../http/problem.ts';
import type { Api } from '../http/route.ts';

export function secretRoutes(api: Api): void {
  const { ctx } = api;

  const vault = () => {
    if (!ctx.secrets?.available) {
      throw new HttpProblem(
        'UNAVAILABLE',
        'secrets are unavailable on this server: start every Trellis process sharing the database with TRELLIS_SECRET_KEY (a 256-bit key; `trellis secrets generate-key` prints one)',
      );
    }
    return ctx.secrets;
  };

  /** Whether `principal` may manage a secret of `scope`; throws 403/404 saying why not. */
  const requireManage = async (principal: Principal, scope: string, what: string): Promise<void> => {
    if (principal.isAdmin) {
      if (scope !== 'global' && !(await getWorkflow(ctx.db, scope.slice('workflow:'.length)))) {
        throw new HttpProblem('NOT_FOUND', `no workflow '${scope.slice('workflow:'.length)}' to scope the secret to`);
      }
      return;
    }
    if (scope === 'global')
      throw new HttpProblem(
        'FORBIDDEN',
        `only administrators ${what} global secrets; give "scope": "workflow:<id>" for a workflow you own`,
      );
    const workflowId = scope.slice('workflow:'.length);
    const w = await getWorkflow(ctx.db, workflowId);
    if (!w || w.deletedAt !== null) throw new HttpProblem('NOT_FOUND', `no workflow '${workflowId}'`);
    const role = await getRole(ctx.db, workflowId, principal.name);
    if (!role) throw new HttpProblem('NOT_FOUND', `no workflow '${workflowId}'`);
    if (!roleAtLeast(role, 'owner'))
      throw new HttpProblem('FORBIDDEN', `only owners of workflow '${workflowId}' ${what} its secrets`);
  };

  const visible = async (principal: Principal, s: SecretInfo): Promise<boolean> => {
    if (principal.isAdmin || s.scope === 'global') return true;
    const role = await getRole(ctx.db, s.scope.slice('workflow:'.length), principal.name);
    return roleAtLeast(role, 'editor');
  };

  api.route({
    method: 'GET',
    path: '/secrets',
    operationId: 'listSecrets',
    summary: 'Secret names, scopes and descriptions — never values',
    description: 'Administrators see every secret; others see global secrets and the secrets of workflows they own or edit.',
    tags: ['secrets'],
    access: { kind: 'user' },
    responses: { 200: { description: 'secrets, by name', schema: secretListSchema } },
    handler: async ({ principal }) => {
      if (!ctx.secrets?.available) return { items: [], available: false };
      const all = await ctx.secrets.list();
      const items: SecretInfo[] = [];
      for (const s of all) if (await visible(principal, s)) items.push(s);
      return { items, available: true };
    },
  });

  api.route({
    method: 'PUT',
    path: '/secrets/:name',
    operationId: 'putSecret',
    summary: 'Create or replace a secret (the value is encrypted and never returned)',
    description:
      'Global scope (default): administrators only. `scope: "workflow:<id>"`: administrators and owners of that workflow. Replacing a secret also needs the right to manage its current scope. 201 when created, 200 when replaced.',
    tags: ['secrets'],
    access: { kind: 'user' },
    params: secretNameParams,
    body: putSecretBody,
    responses: {
      200: { description: 'replaced', schema: secretInfoSchema },
      201: { description: 'created', schema: secretInfoSchema },
      403: { description: 'not allowed to manage secrets of this scope' },
      404: { description: 'the workflow of the scope does not exist' },
      503: { description: 'the server has no secrets key' },
    },
    handler: async ({ params, body, principal, reply }) => {
      const v = vault();
      const scope = parseSecretScope(body.scope ?? 'global');
      if (!scope) throw new HttpProblem('BAD_REQUEST', 'scope is "global" or "workflow:<workflow id>"');
      await requireManage(principal, scope, 'set');
      const existing = await v.get(params.name);
      if (existing && existing.scope !== scope) await requireManage(principal, existing.scope, 'replace');
      const { secret, created } = await v.put(params.name, {
        value: body.value,
        scope,
        description: body.description,
        by: principal.name,
      });
      reply.code(created ? 201 : 200);
      return secret;
    },
  });

  api.route({
    method: 'DELETE',
    path: '/secrets/:name',
    operationId: 'deleteSecret',
    summary: 'Delete a secret (workflows using it then fail with SECRET_NOT_FOUND)',
    description: 'Global secrets: administrators. `workflow:<id>` secrets: administrators and owners of that workflow.',
    tags: ['secrets'],
    access: { kind: 'user' },
    params: secretNameParams,
    responses: { 204: { description: 'deleted' }, 403: { description: 'not allowed' }, 404: { description: 'no such secret' } },
    handler: async ({ params, principal, reply }) => {
      const v = vault();
      const existing = await v.get(params.name);
      if (!existing || !(await visible(principal, existing))) throw new HttpProblem('NOT_FOUND', `no secret '${params.name}'`);
      await requireManage(principal, existing.scope, 'delete');
      await v.delete(params.name);
      reply.code(204);
      return null;
    },
  });
}
