/**
 * Templates: reusable workflow definitions. Listing and instantiating need only a token (the
 * library is shared by everyone on the server); making one from a workflow needs `viewer` on it,
 * since a template copies what the caller can already read.
 */
import { createTemplate, createWorkflow, getTemplate, getVersion, listTemplates, type TemplateInfo } from '@trellis/store';
import { HttpProblem } from '../http/problem.ts';
import type { Api } from '../http/route.ts';
import { idParams } from '../schemas/common.ts';
import { createTemplateBody, instantiateBody, templateListSchema, templateSchema } from '../schemas/templates.ts';
import { createdWorkflowSchema } from '../schemas/workflows.ts';
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
    summary: 'Make a template from a workflow',
    tags: ['templates'],
    access: { kind: 'workflow', role: 'viewer', workflowId: ({ body }) => body.workflowId },
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
