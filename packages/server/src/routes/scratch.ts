/**
 * The builder's test runs: "test this node" and "run up to here" (docs/console.md). A test runs
 * through the real engine as a *scratch run*: a run of the workflow's hidden scratch workflow,
 * whose version is the definition under test cut down to the node and its upstream. The
 * workflow's history (run lists, last run, analytics) never sees it; finished test runs are
 * deleted after SCRATCH_RETENTION_MS. "test this node" reuses the upstream outputs of a pinned
 * run exactly as a retry does (docs/retry.md): a node is reused when it and everything upstream
 * of it are unchanged since that run, and runs again otherwise.
 */

import { idParams, testRunBody, testRunParams, testRunResultSchema, testRunStatusSchema } from '@trellis/client/schemas';
import { compile, type RunRecord, TrellisError } from '@trellis/core';
import { addScratchVersion, deleteScratchRuns, getVersion, listRunHistory, scratchRunOwner } from '@trellis/store';
import { HttpProblem } from '../http/problem.ts';
import type { Api } from '../http/route.ts';
import { testDefinition, upstreamClosure } from '../scratch/test-definition.ts';
import { assertAcceptingWork, engineOf } from '../streams/engine.ts';
import { requireSavableDefinition, requireUsableSecrets } from '../validation.ts';

/** Finished test runs older than this are deleted (when a later test starts). */
export const SCRATCH_RETENTION_MS = 24 * 60 * 60 * 1000;

export function scratchRoutes(api: Api): void {
  const { ctx } = api;
  const byId = ({ params }: { params: { id: string } }) => params.id;

  api.route({
    method: 'POST',
    path: '/workflows/:id/test',
    operationId: 'testNode',
    summary: 'Test one node ("node") or run up to it ("upTo") in a scratch run that stays out of the history',
    tags: ['runs'],
    access: { kind: 'workflow', role: 'runner', workflowId: byId },
    params: idParams,
    body: testRunBody,
    responses: {
      200: { description: 'the test run, finished (or stopped at a gate)', schema: testRunResultSchema },
      202: {
        description: 'still running after waitMs: read it with GET /workflows/:id/test_runs/:runId',
        schema: testRunResultSchema,
      },
      409: { description: 'TEST_NEEDS_RUN: "node" mode needs a finished run for the upstream data' },
      422: { description: 'the definition is invalid, TEST_UNKNOWN_NODE, TEST_SUBWORKFLOW, or the input is invalid' },
    },
    handler: async ({ workflow, body, principal, reply }) => {
      const w = workflow!;
      if (w.deletedAt !== null) throw new HttpProblem('NOT_FOUND', `workflow '${w.id}' was deleted`);
      const engine = engineOf(ctx);
      assertAcceptingWork(ctx);
      const source = body.definition ?? (await getVersion(ctx.db, w.id, w.latestVersion))?.definition;
      const check = await requireSavableDefinition(source, ctx.limits.definitionBytes, ctx.connectors);
      await requireUsableSecrets(check.definition, ctx.secrets, w.id);
      const compiled = compile(check.definition);
      if (!compiled.ok)
        throw new HttpProblem('DEFINITION_INVALID', 'the definition does not compile', { errors: compiled.errors });
      const keep = upstreamClosure(compiled.compiled, body.node);
      if (keep.length === 0)
        throw new TrellisError('TEST_UNKNOWN_NODE', `the definition has no node '${body.node}'; name one of its nodes`, {
          category: 'user',
        });
      const executes = body.mode === 'upTo' ? keep : [body.node];
      const sub = check.definition.nodes.find(
        (n) => executes.includes(n.id) && (n.type === 'workflow' || (n.type === 'map' && n.do.type === 'workflow')),
      );
      if (sub)
        throw new TrellisError(
          'TEST_SUBWORKFLOW',
          `'${sub.id}' starts a sub-workflow, whose run would enter that workflow's history; test runs do not run sub-workflows (run the workflow instead)`,
          { category: 'user' },
        );

      // The pinned run: named, or the newest finished run of this workflow.
      let fromRun: RunRecord | undefined;
      if (body.fromRun !== undefined) {
        fromRun = await engine.getRun(body.fromRun);
        if (!fromRun || fromRun.workflowId !== w.id)
          throw new HttpProblem('NOT_FOUND', `workflow '${w.id}' has no run '${body.fromRun}'`);
      } else {
        const last = await listRunHistory(ctx.db, {
          principal: principal.name,
          isAdmin: true,
          workflowId: w.id,
          status: ['succeeded', 'failed', 'cancelled'],
          limit: 1,
        });
        const id = last.items[0]?.id;
        fromRun = id === undefined ? undefined : await engine.getRun(id);
      }
      const hasUpstream = keep.length > 1;
      if (body.mode === 'node' && hasUpstream && fromRun === undefined)
        throw new TrellisError(
          'TEST_NEEDS_RUN',
          `testing '${body.node}' alone needs the outputs of the nodes upstream of it from a finished run; run the workflow once, or use "run up to here"`,
          { category: 'user' },
        );

      await deleteScratchRuns(ctx.db, new Date(Date.now() - SCRATCH_RETENTION_MS).toISOString());
      const definition = testDefinition(check.definition, keep);
      const { scratchId, version } = await addScratchVersion(ctx.db, w.id, definition, principal.name);
      const reuse = body.mode === 'node' && hasUpstream && fromRun !== undefined && fromRun.finishedAt !== null;
      const started = reuse
        ? await engine.retryRun({
            runId: fromRun!.id,
            from: [body.node],
            scratch: { workflowId: scratchId, version },
            createdBy: principal.name,
          })
        : await engine.startRun({
            workflowId: scratchId,
            version,
            input: body.input ?? fromRun?.input ?? {},
            createdBy: principal.name,
          });

      const waited = await waitAtMost(engine.waitForRun(started.runId, { orWaiting: true }), body.waitMs);
      let note: string | undefined;
      if (waited?.status === 'waiting') {
        note = 'a test run does not wait for a person: it stopped at the gate or question it reached';
        await engine.cancelRun(started.runId, note);
      }
      const record = await engine.getRun(started.runId);
      if (!record) throw new HttpProblem('NOT_FOUND', `the test run '${started.runId}' is gone`);
      const finished = record.finishedAt !== null;
      reply.code(finished ? 200 : 202);
      return {
        id: record.id,
        workflowId: w.id,
        node: body.node,
        mode: body.mode,
        fromRun: reuse ? fromRun!.id : null,
        finished,
        ...(note === undefined ? {} : { note }),
        record: { ...record, workflowId: w.id },
      };
    },
  });

  api.route({
    method: 'GET',
    path: '/workflows/:id/test_runs/:runId',
    operationId: 'getTestRun',
    summary: 'A test run of this workflow (scratch run), as the run record',
    tags: ['runs'],
    access: { kind: 'workflow', role: 'runner', workflowId: byId },
    params: testRunParams,
    responses: { 200: { description: 'the test run', schema: testRunStatusSchema } },
    handler: async ({ workflow, params }) => {
      const w = workflow!;
      if ((await scratchRunOwner(ctx.db, params.runId)) !== w.id)
        throw new HttpProblem('NOT_FOUND', `workflow '${w.id}' has no test run '${params.runId}'`);
      const record = await engineOf(ctx).getRun(params.runId);
      if (!record) throw new HttpProblem('NOT_FOUND', `workflow '${w.id}' has no test run '${params.runId}'`);
      return {
        id: record.id,
        workflowId: w.id,
        finished: record.finishedAt !== null,
        record: { ...record, workflowId: w.id },
      };
    },
  });
}

async function waitAtMost<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([p.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
