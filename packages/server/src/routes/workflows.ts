/** Workflows: CRUD with versions (SPEC §4). Every save compiles the definition (422 with every problem). */

import {
  createdWorkflowSchema,
  definitionBody,
  definitionDoc,
  idParams,
  listWorkflowsQuery,
  validateResultSchema,
  versionDetailSchema,
  versionListSchema,
  versionParams,
  workflowDetailSchema,
  workflowPageSchema,
} from '@trellis/client/schemas';
import {
  activeTriggerCounts,
  addVersion,
  createWorkflow,
  getVersion,
  lastRunsOf,
  listVersions,
  listWorkflows,
  softDelete,
  type WorkflowInfo,
} from '@trellis/store';
import { z } from 'zod';
import { HttpProblem } from '../http/problem.ts';
import type { Api } from '../http/route.ts';
import { stopWorkflowTriggers, syncWorkflowTriggers } from '../triggers/sync.ts';
import {
  assertDefinitionSize,
  checkDefinition,
  checkDefinitionForSave,
  requireRunnableWorkflows,
  requireSavableDefinition,
  requireUsableSecrets,
  secretProblems,
  workflowReferenceProblems,
} from '../validation.ts';

export function summary(w: WorkflowInfo) {
  return {
    id: w.id,
    name: w.name,
    description: w.description,
    owner: w.owner,
    latestVersion: w.latestVersion,
    createdAt: w.createdAt,
    updatedAt: w.updatedAt,
  };
}

function live(w: WorkflowInfo | undefined): WorkflowInfo {
  if (!w || w.deletedAt !== null) throw new HttpProblem('NOT_FOUND', `workflow '${w?.id ?? '?'}' was deleted`);
  return w;
}

export function workflowRoutes(api: Api): void {
  const { ctx } = api;
  const byId = ({ params }: { params: { id: string } }) => params.id;

  api.route({
    method: 'POST',
    path: '/workflows',
    operationId: 'createWorkflow',
    summary: 'Create a workflow (version 1); the caller becomes its owner',
    tags: ['workflows'],
    access: { kind: 'user' },
    body: definitionBody,
    bodyDoc: definitionDoc,
    responses: {
      201: { description: 'created', schema: createdWorkflowSchema },
      413: { description: 'definition too large' },
      422: { description: 'invalid definition; `errors` lists every problem' },
    },
    handler: async ({ body, principal, reply }) => {
      const check = await requireSavableDefinition(body, ctx.limits.definitionBytes, ctx.connectors);
      const def = check.definition;
      await requireUsableSecrets(def, ctx.secrets, null);
      await requireRunnableWorkflows(ctx.db, def, principal.name);
      const { id, version } = await createWorkflow(ctx.db, {
        name: def.name,
        description: def.description ?? null,
        definition: body,
        owner: principal.name,
      });
      await syncWorkflowTriggers(ctx, id, version, def.triggers);
      const now = new Date().toISOString();
      reply.code(201).header('location', `/api/v1/workflows/${id}`);
      return {
        id,
        version,
        name: def.name,
        description: def.description ?? null,
        owner: principal.name,
        latestVersion: version,
        createdAt: now,
        updatedAt: now,
        compiled: check.compiled,
        warnings: check.warnings,
      };
    },
  });

  api.route({
    method: 'GET',
    path: '/workflows',
    operationId: 'listWorkflows',
    summary: 'List the workflows the caller holds a role on (administrators: all), newest first',
    tags: ['workflows'],
    access: { kind: 'user' },
    query: listWorkflowsQuery(ctx.limits.maxPageSize),
    responses: { 200: { description: 'a page', schema: workflowPageSchema } },
    handler: async ({ query, principal }) => {
      const page = await listWorkflows(ctx.db, {
        principal: principal.name,
        isAdmin: principal.isAdmin,
        limit: query.limit,
        cursor: query.cursor,
        q: query.q,
      });
      const ids = page.items.map((w) => w.id);
      const last = await lastRunsOf(ctx.db, ids);
      const triggers = await activeTriggerCounts(ctx.db, ids);
      return {
        items: page.items.map((w) => ({
          ...summary(w),
          lastRun: last.get(w.id) ?? null,
          triggers: triggers.get(w.id) ?? { schedule: 0, webhook: 0 },
        })),
        nextCursor: page.nextCursor,
      };
    },
  });

  api.route({
    method: 'POST',
    path: '/workflows/validate',
    operationId: 'validateWorkflow',
    summary: 'Check a definition as saving would (compiler and agent/tool registries) without saving it',
    tags: ['workflows'],
    access: { kind: 'user' },
    body: z.unknown(),
    bodyDoc: definitionDoc,
    responses: {
      200: {
        description: 'the verdict (200 also when invalid); saving the same body refuses exactly these errors',
        schema: validateResultSchema,
      },
      413: { description: 'definition too large' },
    },
    handler: async ({ body, principal }) => {
      if (body === undefined) throw new HttpProblem('BAD_REQUEST', 'send the definition as a JSON body');
      assertDefinitionSize(body, ctx.limits.definitionBytes);
      const check = await checkDefinitionForSave(body, ctx.connectors);
      const secrets = check.valid ? await secretProblems(check.definition, ctx.secrets, undefined) : [];
      if (secrets.length > 0) return { valid: false, errors: secrets, warnings: check.warnings, compiled: null };
      if (check.valid) {
        // Sub-workflows, as creating the workflow would check them (the caller as its owner).
        const errors = await workflowReferenceProblems(ctx.db, check.definition, principal.name);
        if (errors.length > 0) return { valid: false, errors, warnings: check.warnings, compiled: null };
      }
      return { valid: check.valid, errors: check.errors, warnings: check.warnings, compiled: check.compiled };
    },
  });

  api.route({
    method: 'GET',
    path: '/workflows/:id',
    operationId: 'getWorkflow',
    summary: 'The latest version with its definition and compiled summary',
    tags: ['workflows'],
    access: { kind: 'workflow', role: 'viewer', workflowId: byId },
    params: idParams,
    responses: { 200: { description: 'the workflow', schema: workflowDetailSchema } },
    handler: async ({ workflow, role }) => {
      const w = live(workflow);
      const v = await getVersion(ctx.db, w.id, w.latestVersion);
      const check = checkDefinition(v?.definition);
      return {
        ...summary(w),
        version: w.latestVersion,
        definition: v?.definition ?? null,
        compiled: check.compiled,
        role: role ?? 'viewer',
      };
    },
  });

  api.route({
    method: 'PUT',
    path: '/workflows/:id',
    operationId: 'updateWorkflow',
    summary: 'Save a new version (latest + 1); runs keep the version they started on',
    tags: ['workflows'],
    access: { kind: 'workflow', role: 'editor', workflowId: byId },
    params: idParams,
    body: definitionBody,
    bodyDoc: definitionDoc,
    responses: {
      200: { description: 'saved', schema: createdWorkflowSchema },
      413: { description: 'definition too large' },
      422: { description: 'invalid definition; `errors` lists every problem' },
    },
    handler: async ({ workflow, body, principal }) => {
      const w = live(workflow);
      const check = await requireSavableDefinition(body, ctx.limits.definitionBytes, ctx.connectors);
      await requireUsableSecrets(check.definition, ctx.secrets, w.id);
      // Child runs start with the rights of the workflow's owner, whoever saves the version.
      await requireRunnableWorkflows(ctx.db, check.definition, w.owner, w.id);
      const version = await addVersion(ctx.db, w.id, body, principal.name);
      if (version === undefined) throw new HttpProblem('NOT_FOUND', `workflow '${w.id}' was deleted`);
      await syncWorkflowTriggers(ctx, w.id, version, check.definition.triggers);
      return {
        ...summary(w),
        name: check.definition.name,
        description: check.definition.description ?? null,
        latestVersion: version,
        updatedAt: new Date().toISOString(),
        version,
        compiled: check.compiled,
        warnings: check.warnings,
      };
    },
  });

  api.route({
    method: 'DELETE',
    path: '/workflows/:id',
    operationId: 'deleteWorkflow',
    summary:
      'Delete a workflow; its unfinished runs (queued, running, waiting at a gate) are cancelled, and every run stays readable',
    tags: ['workflows'],
    access: { kind: 'workflow', role: 'owner', workflowId: byId },
    params: idParams,
    responses: { 204: { description: 'deleted; its unfinished runs were cancelled' } },
    handler: async ({ workflow, reply }) => {
      const w = live(workflow);
      await softDelete(ctx.db, w.id);
      await stopWorkflowTriggers(ctx, w.id);
      // A run of a deleted workflow would otherwise wait at its gate forever: cancel what is unfinished.
      const unfinished = await ctx.db
        .selectFrom('runs')
        .select('id')
        .where('workflow_id', '=', w.id)
        .where('status', 'in', ['queued', 'running', 'waiting'])
        .execute();
      for (const r of unfinished) await ctx.engine?.cancelRun(r.id, `the workflow '${w.name}' was deleted`);
      reply.code(204);
      return null;
    },
  });

  api.route({
    method: 'GET',
    path: '/workflows/:id/versions',
    operationId: 'listWorkflowVersions',
    summary: 'Every version, newest first',
    tags: ['workflows'],
    access: { kind: 'workflow', role: 'viewer', workflowId: byId },
    params: idParams,
    responses: { 200: { description: 'versions', schema: versionListSchema } },
    handler: async ({ workflow }) => {
      const items = await listVersions(ctx.db, workflow!.id);
      return { items: items.map((v) => ({ version: v.version, createdBy: v.createdBy, createdAt: v.createdAt })) };
    },
  });

  api.route({
    method: 'GET',
    path: '/workflows/:id/versions/:v',
    operationId: 'getWorkflowVersion',
    summary: 'One version with its definition',
    tags: ['workflows'],
    access: { kind: 'workflow', role: 'viewer', workflowId: byId },
    params: versionParams,
    responses: { 200: { description: 'the version', schema: versionDetailSchema } },
    handler: async ({ workflow, params }) => {
      const v = await getVersion(ctx.db, workflow!.id, params.v);
      if (!v) throw new HttpProblem('NOT_FOUND', `workflow '${workflow!.id}' has no version ${params.v}`);
      return {
        workflowId: v.workflowId,
        version: v.version,
        definition: v.definition,
        createdBy: v.createdBy,
        createdAt: v.createdAt,
      };
    },
  });
}
