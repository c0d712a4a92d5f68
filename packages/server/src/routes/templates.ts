/**
 * Templates: reusable workflow definitions. Listing and instantiating need only a token (the
 * library is shared by everyone on the server). Publishing a workflow as a template needs
 * `editor` on it: a template shows the definition to every user, which is the workflow's
 * editors' and owners' decision, not its viewers'. A template is deleted by its author or an
 * administrator; built-in ones come from the examples folder and are not deleted through the API.
 */

import {
  createdWorkflowSchema,
  createTemplateBody,
  idParams,
  instantiateBody,
  templateListSchema,
  templateSchema,
} from '@trellis/client/schemas';
import {
  createTemplate,
  createWorkflow,
  deleteTemplate,
  getTemplate,
  getVersion,
  listTemplates,
  type TemplateInfo,
} from '@trellis/store';
import { HttpProblem } from '../http/problem.ts';
import type { Api } from '../http/route.ts';
import { requireValidDefinition } from '../validation.ts';

const view = (t: TemplateInfo) => t;

export function templateRoutes(api: Api): void {
  const { ctx } = api;

  api.route({
    method: 'GET',
    path: '/templates',
    operationId: 'listTemplates',
    summary: 'Every template, built-in ones first',
    tags: ['templates'],
    access: { kind: 'user' },
    responses: { 200: { description: 'templates', schema: templateListSchema } },
    handler: async () => ({ items: (await listTemplates(ctx.db)).map(view) }),
  });

  api.route({
    method: 'POST',
    path: '/templates',
    operationId: 'createTemplate',
    summary: 'Publish a workflow (a version of it) as a template every user can read and instantiate',
    tags: ['templates'],
    access: { kind: 'workflow', role: 'editor', workflowId: ({ body }) => body.workflowId },
    body: createTemplateBody,
    responses: { 201: { description: 'created', schema: templateSchema } },
    handler: async ({ body, workflow, principal, reply }) => {
      const w = workflow!;
      const version = body.version ?? w.latestVersion;
      const v = await getVersion(ctx.db, w.id, version);
      if (!v) throw new HttpProblem('NOT_FOUND', `workflow '${w.id}' has no version ${version}`);
      const t = await createTemplate(ctx.db, {
        name: body.name ?? w.name,
        description: body.description ?? w.description,
        definition: v.definition,
        createdBy: principal.name,
      });
      reply.code(201);
      return view(t);
    },
  });

  api.route({
    method: 'DELETE',
    path: '/templates/:id',
    operationId: 'deleteTemplate',
    summary: 'Delete a template (its author or an administrator; built-in templates cannot be deleted)',
    tags: ['templates'],
    access: { kind: 'user' },
    params: idParams,
    responses: {
      204: { description: 'deleted' },
      403: { description: 'the caller is neither the author nor an administrator' },
      409: { description: 'a built-in template' },
    },
    handler: async ({ params, principal, reply }) => {
      const t = await getTemplate(ctx.db, params.id);
      if (!t) throw new HttpProblem('NOT_FOUND', `no template '${params.id}'`);
      if (t.builtin)
        throw new HttpProblem(
          'CONFLICT',
          `template '${t.id}' is built in (it comes from the examples folder at every start); it cannot be deleted`,
        );
      if (!principal.isAdmin && t.createdBy !== principal.name)
        throw new HttpProblem(
          'FORBIDDEN',
          `template '${t.id}' was published by '${t.createdBy}'; only they or an administrator may delete it`,
        );
      await deleteTemplate(ctx.db, t.id);
      reply.code(204);
      return null;
    },
  });

  api.route({
    method: 'POST',
    path: '/templates/:id/instantiate',
    operationId: 'instantiateTemplate',
    summary: 'Create a new workflow from a template; the caller becomes its owner',
    tags: ['templates'],
    access: { kind: 'user' },
    params: idParams,
    body: instantiateBody,
    responses: {
      201: { description: 'the new workflow', schema: createdWorkflowSchema },
      422: { description: 'the template no longer validates' },
    },
    handler: async ({ params, body, principal, reply }) => {
      const t = await getTemplate(ctx.db, params.id);
      if (!t) throw new HttpProblem('NOT_FOUND', `no template '${params.id}'`);
      const definition =
        body.name && t.definition && typeof t.definition === 'object'
          ? { ...(t.definition as object), name: body.name }
          : t.definition;
      const check = requireValidDefinition(definition, ctx.limits.definitionBytes);
      const name = check.definition.name;
      const description = check.definition.description ?? null;
      const { id, version } = await createWorkflow(ctx.db, { name, description, definition, owner: principal.name });
      const now = new Date().toISOString();
      reply.code(201).header('location', `/api/v1/workflows/${id}`);
      return {
        id,
        version,
        name,
        description,
        owner: principal.name,
        latestVersion: version,
        createdAt: now,
        updatedAt: now,
        compiled: check.compiled,
        warnings: check.warnings,
      };
    },
  });
}
