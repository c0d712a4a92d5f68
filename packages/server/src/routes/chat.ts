/**
 * The chat trigger (SPEC §4): `{ workflowId, message }` starts a run with `{ message }` as its
 * input and answers with the run's output — as JSON once the run finishes (or waits at a gate),
 * or, with `Accept: text/event-stream`, as a stream of its events and a final `output` frame.
 */

import { chatBody, chatResultSchema, runEventSchema } from '@trellis/client/schemas';
import type { Engine } from '@trellis/runtime';
import { HttpProblem } from '../http/problem.ts';
import type { Api } from '../http/route.ts';
import { assertAcceptingWork, engineOf } from '../streams/engine.ts';
import { streamSse, wantsEventStream } from '../streams/sse.ts';

/** How long a JSON chat request waits before answering 202 with the run still going. */
const CHAT_WAIT_MS = 120_000;

async function result(engine: Engine, runId: string) {
  const run = await engine.getRun(runId);
  if (!run) throw new HttpProblem('NOT_FOUND', `no run '${runId}'`);
  return { runId, status: run.status, output: run.output ?? null, error: run.error };
}

export function chatRoutes(api: Api): void {
  const { ctx } = api;
  api.route({
    method: 'POST',
    path: '/chat',
    operationId: 'chat',
    summary: 'Start a run with { message } and answer with its output (streamed with Accept: text/event-stream)',
    description:
      'JSON: 200 with the output once the run finished or waits at a gate; 202 with status `running` if it takes longer than 120 s (follow the run by id). SSE: the run events, then `output` with the same body, then `end`.',
    tags: ['chat'],
    access: { kind: 'workflow', role: 'runner', workflowId: ({ body }) => body.workflowId },
    body: chatBody,
    responses: {
      200: {
        description: "the run's output",
        schema: chatResultSchema,
        also: { contentType: 'text/event-stream', schema: runEventSchema },
      },
      202: { description: 'the run is still going', schema: chatResultSchema },
      422: { description: "the workflow's inputSchema refuses { message }" },
    },
    handler: async ({ workflow, body, principal, req, reply }) => {
      const w = workflow!;
      if (w.deletedAt !== null) throw new HttpProblem('NOT_FOUND', `workflow '${w.id}' was deleted`);
      const engine = engineOf(ctx);
      assertAcceptingWork(ctx);
      const { runId } = await engine.startRun({
        workflowId: w.id,
        version: body.version ?? w.latestVersion,
        input: { message: body.message },
        createdBy: principal.name,
      });
      if (wantsEventStream(req)) {
        return streamSse(ctx, req, reply, {
          runId,
          access: { principal, workflowId: w.id, role: 'viewer' },
          after: 0,
          onEnd: async (write) => write('output', await result(engine, runId)),
        });
      }
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), CHAT_WAIT_MS);
      });
      const done = await Promise.race([engine.waitForRun(runId, { orWaiting: true }), timedOut]);
      clearTimeout(timer);
      if (done === 'timeout') {
        reply.code(202);
        return { runId, status: 'running' as const, output: null, error: null };
      }
      return result(engine, runId);
    },
  });
}
