/** Runs: start (idempotent), history, the run record, cancel, and human-gate decisions (SPEC §4). */

import {
  cancelResultSchema,
  decisionBody,
  decisionResultSchema,
  gateParams,
  idParams,
  itemGateParams,
  retriedRunSchema,
  retryRunBody,
  runPageSchema,
  runRecordSchema,
  startedRunSchema,
  startRunBody,
} from '@trellis/client/schemas';
import { TrellisError } from '@trellis/core';
import { getVersion, getWorkflow, triggersOfRuns } from '@trellis/store';
import { z } from 'zod';
import { HttpProblem } from '../http/problem.ts';
import type { Api } from '../http/route.ts';
import { traceParentField } from '../http/trace-context.ts';
import { assertAcceptingWork, engineOf } from '../streams/engine.ts';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

export function runRoutes(api: Api): void {
  const { ctx } = api;
  const byId = ({ params }: { params: { id: string } }) => params.id;

  api.route({
    method: 'POST',
    path: '/workflows/:id/run',
    operationId: 'startRun',
    summary: 'Start a run (201); the same Idempotency-Key returns the same run (200)',
    tags: ['runs'],
    access: { kind: 'workflow', role: 'runner', workflowId: byId },
    params: idParams,
    body: startRunBody,
    headers: [
      { name: 'Idempotency-Key', description: 'Retry-safe start: one run per key and workflow (printable ASCII, ≤ 200).' },
      {
        name: 'traceparent',
        description:
          "W3C trace context: the run's trace continues the caller's (docs/observability.md). Invalid values are ignored.",
      },
    ],
    responses: {
      200: { description: 'the run an earlier request with this key started', schema: startedRunSchema },
      201: { description: 'started', schema: startedRunSchema },
      422: { description: 'the input violates the inputSchema' },
    },
    handler: async ({ workflow, body, principal, req, reply }) => {
      const w = workflow!;
      if (w.deletedAt !== null) throw new HttpProblem('NOT_FOUND', `workflow '${w.id}' was deleted`);
      const engine = engineOf(ctx);
      assertAcceptingWork(ctx);
      const rawKey = req.headers['idempotency-key'];
      const key = Array.isArray(rawKey) ? rawKey[0] : rawKey;
      if (key !== undefined && !IDEMPOTENCY_KEY.test(key))
        throw new HttpProblem('BAD_REQUEST', 'Idempotency-Key must be 1–200 printable ASCII characters');
      const version = body.version ?? w.latestVersion;
      if (body.version !== undefined && !(await getVersion(ctx.db, w.id, version)))
        throw new HttpProblem('NOT_FOUND', `workflow '${w.id}' has no version ${version}`);
      const r = await engine.startRun({
        workflowId: w.id,
        version,
        input: body.input ?? {},
        createdBy: principal.name,
        ...(key !== undefined ? { idempotencyKey: key } : {}),
        ...traceParentField(req.headers.traceparent),
      });
      reply.code(r.created ? 201 : 200).header('location', `/api/v1/workflow_runs/${r.runId}`);
      return { id: r.runId, status: r.status, workflowId: w.id, version, created: r.created };
    },
  });

  api.route({
    method: 'GET',
    path: '/workflows/:id/runs',
    operationId: 'listRuns',
    summary: "The workflow's runs, newest first",
    tags: ['runs'],
    access: { kind: 'workflow', role: 'viewer', workflowId: byId },
    params: idParams,
    query: z.object({
      limit: z.coerce.number().int().min(1).max(ctx.limits.maxPageSize).default(50),
      cursor: z.string().min(1).max(500).optional(),
    }),
    responses: { 200: { description: 'a page', schema: runPageSchema } },
    handler: async ({ workflow, query }) => {
      try {
        const page = await engineOf(ctx).listRuns({
          workflowId: workflow!.id,
          limit: query.limit,
          ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
        });
        const triggers = await triggersOfRuns(
          ctx.db,
          page.runs.map((r) => r.id),
        );
        return {
          items: page.runs.map((r) => {
            const trigger = triggers.get(r.id);
            return trigger ? { ...r, trigger } : r;
          }),
          nextCursor: page.nextCursor,
        };
      } catch (err) {
        if (err instanceof TrellisError && err.category === 'user') throw new HttpProblem('BAD_REQUEST', err.message);
        throw err;
      }
    },
  });

  api.route({
    method: 'GET',
    path: '/workflow_runs/:id',
    operationId: 'getRun',
    summary: 'The run record: every node with status, attempts, input, output, error, timings, cost',
    tags: ['runs'],
    access: { kind: 'run', role: 'viewer', runId: byId },
    params: idParams,
    responses: { 200: { description: 'the run', schema: runRecordSchema } },
    handler: async ({ run }) => {
      const r = await engineOf(ctx).getRun(run!.id);
      if (!r) throw new HttpProblem('NOT_FOUND', `no run '${run!.id}'`);
      const trigger = (await triggersOfRuns(ctx.db, [r.id])).get(r.id);
      return trigger ? { ...r, trigger } : r;
    },
  });

  api.route({
    method: 'POST',
    path: '/workflow_runs/:id/cancel',
    operationId: 'cancelRun',
    summary: 'Cancel a run (202); a finished run is left as it is',
    tags: ['runs'],
    access: { kind: 'run', role: 'runner', runId: byId },
    params: idParams,
    responses: { 202: { description: 'cancellation committed (or the run had already finished)', schema: cancelResultSchema } },
    handler: async ({ run, reply }) => {
      const r = await engineOf(ctx).cancelRun(run!.id, 'cancelled through the API');
      if (!r) throw new HttpProblem('NOT_FOUND', `no run '${run!.id}'`);
      reply.code(202);
      return { id: run!.id, status: r.status };
    },
  });

  api.route({
    method: 'POST',
    path: '/workflow_runs/:id/retry',
    operationId: 'retryRun',
    summary: 'Retry a finished run as a new run that reuses what succeeded (201); see docs/retry.md',
    tags: ['runs'],
    access: { kind: 'run', role: 'runner', runId: byId },
    params: idParams,
    body: retryRunBody,
    headers: [{ name: 'Idempotency-Key', description: 'Retry-safe: one retry per key and run (printable ASCII, ≤ 200).' }],
    responses: {
      200: { description: 'the retry an earlier request with this key created', schema: retriedRunSchema },
      201: { description: 'the retry, started', schema: retriedRunSchema },
      409: {
        description: 'RUN_NOT_FINISHED (the run is still going), NOTHING_TO_RERUN (every node would be reused), WORKFLOW_DELETED',
      },
      422: { description: "RETRY_UNKNOWN_NODE: 'from' names a node the workflow does not have" },
    },
    handler: async ({ run, body, principal, req, reply }) => {
      const w = await getWorkflow(ctx.db, run!.workflowId);
      if (!w || w.deletedAt !== null)
        throw new TrellisError(
          'WORKFLOW_DELETED',
          `workflow '${run!.workflowId}' was deleted; its runs stay readable but cannot be retried`,
          { category: 'user' },
        );
      const engine = engineOf(ctx);
      assertAcceptingWork(ctx);
      const rawKey = req.headers['idempotency-key'];
      const key = Array.isArray(rawKey) ? rawKey[0] : rawKey;
      if (key !== undefined && !IDEMPOTENCY_KEY.test(key))
        throw new HttpProblem('BAD_REQUEST', 'Idempotency-Key must be 1–200 printable ASCII characters');
      const r = await engine.retryRun({
        runId: run!.id,
        ...(body.from !== undefined ? { from: body.from } : {}),
        ...(body.version === 'latest' ? { latestVersion: w.latestVersion } : {}),
        createdBy: principal.name,
        ...(key !== undefined ? { idempotencyKey: key } : {}),
      });
      const rec = await engine.getRun(r.runId);
      reply.code(r.created ? 201 : 200).header('location', `/api/v1/workflow_runs/${r.runId}`);
      return {
        id: r.runId,
        status: r.status,
        retryOf: r.retryOf,
        workflowId: w.id,
        version: rec?.version ?? w.latestVersion,
        reused: r.reused,
        costSavedUsd: r.costSavedUsd,
        created: r.created,
      };
    },
  });

  for (const decision of ['approve', 'reject'] as const) {
    api.route({
      method: 'POST',
      path: `/workflow_runs/:id/nodes/:nodeId/items/:item/${decision}`,
      operationId: decision === 'approve' ? 'approveItemGate' : 'rejectItemGate',
      summary: `${decision === 'approve' ? 'Approve' : 'Reject'} the waiting gate of one item of a map node; 409 if it is not waiting`,
      tags: ['runs'],
      access: { kind: 'run', role: 'runner', runId: byId },
      params: itemGateParams,
      body: decisionBody,
      responses: {
        200: { description: 'decided; the decision is recorded with who made it', schema: decisionResultSchema },
        409: { description: 'the item is not waiting (already decided, or not reached)' },
      },
      handler: async ({ run, params, body, principal }) => {
        const approved = decision === 'approve';
        const outcome = await engineOf(ctx).decideGate(
          run!.id,
          params.nodeId,
          {
            approved,
            by: principal.name,
            ...(body.comment !== undefined ? { comment: body.comment } : {}),
            ...(approved && body.data !== undefined ? { data: body.data } : {}),
          },
          params.item,
        );
        if (!outcome.ok) {
          if (outcome.reason === 'not_waiting')
            throw new HttpProblem('CONFLICT', `item ${params.item} of node '${params.nodeId}' is not waiting for a decision`);
          if (outcome.reason === 'node_not_found')
            throw new HttpProblem('NOT_FOUND', `run '${run!.id}' has no map node '${params.nodeId}'`);
          throw new HttpProblem('NOT_FOUND', `no run '${run!.id}'`);
        }
        return {
          runId: run!.id,
          nodeId: params.nodeId,
          item: params.item,
          decision: approved ? ('approved' as const) : ('rejected' as const),
          by: principal.name,
        };
      },
    });
    api.route({
      method: 'POST',
      path: `/workflow_runs/:id/nodes/:nodeId/${decision}`,
      operationId: decision === 'approve' ? 'approveGate' : 'rejectGate',
      summary: `${decision === 'approve' ? 'Approve' : 'Reject'} a waiting human gate; 409 if it is not waiting`,
      tags: ['runs'],
      access: { kind: 'run', role: 'runner', runId: byId },
      params: gateParams,
      body: decisionBody,
      responses: {
        200: { description: 'decided; the decision is recorded with who made it', schema: decisionResultSchema },
        409: { description: 'the gate is not waiting (already decided, or not reached)' },
      },
      handler: async ({ run, params, body, principal }) => {
        const approved = decision === 'approve';
        const outcome = await engineOf(ctx).decideGate(run!.id, params.nodeId, {
          approved,
          by: principal.name,
          ...(body.comment !== undefined ? { comment: body.comment } : {}),
          ...(approved && body.data !== undefined ? { data: body.data } : {}),
        });
        if (!outcome.ok) {
          if (outcome.reason === 'not_waiting')
            throw new HttpProblem('CONFLICT', `node '${params.nodeId}' of run '${run!.id}' is not waiting for a decision`);
          if (outcome.reason === 'node_not_found')
            throw new HttpProblem('NOT_FOUND', `run '${run!.id}' has no node '${params.nodeId}'`);
          throw new HttpProblem('NOT_FOUND', `no run '${run!.id}'`);
        }
        return {
          runId: run!.id,
          nodeId: params.nodeId,
          decision: approved ? ('approved' as const) : ('rejected' as const),
          by: principal.name,
        };
      },
    });
  }
}
