/** Per-workflow permissions (SPEC §4): viewers may read them, owners replace them. */

import { idParams, permissionListSchema } from '@trellis/client/schemas';
import { listPermissions, setPermissions } from '@trellis/store';
import { HttpProblem } from '../http/problem.ts';
import type { Api } from '../http/route.ts';

export function permissionRoutes(api: Api): void {
  const { ctx } = api;
  const byId = ({ params }: { params: { id: string } }) => params.id;

  api.route({
    method: 'GET',
    path: '/workflows/:id/permissions',
    operationId: 'getWorkflowPermissions',
    summary: 'Who holds which role on the workflow',
    tags: ['permissions'],
    access: { kind: 'workflow', role: 'viewer', workflowId: byId },
    params: idParams,
    responses: { 200: { description: 'the permissions', schema: permissionListSchema } },
    handler: async ({ workflow }) => listPermissions(ctx.db, workflow!.id),
  });

  api.route({
    method: 'PUT',
    path: '/workflows/:id/permissions',
    operationId: 'setWorkflowPermissions',
    summary: 'Replace the permissions (at least one owner must remain)',
    tags: ['permissions'],
    access: { kind: 'workflow', role: 'owner', workflowId: byId },
    params: idParams,
    body: permissionListSchema,
    responses: {
      200: { description: 'the new permissions', schema: permissionListSchema },
      422: { description: 'no owner left, or a principal listed twice' },
    },
    handler: async ({ workflow, body }) => {
      const r = await setPermissions(ctx.db, workflow!.id, body);
      if (!r.ok) throw new HttpProblem('PERMISSIONS_INVALID', r.message);
      // Streams of principals who lost their role end now, not at the next periodic check.
      void ctx.streamAccess.checkNow();
      return listPermissions(ctx.db, workflow!.id);
    },
  });
}
