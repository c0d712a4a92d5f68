/**
 * A run's events: `GET /workflow_runs/:id/events` as JSON (a page after `after`) or, with
 * `Accept: text/event-stream`, as SSE that replays and then follows; and the WebSocket
 * `/ws/workflow_runs/:id` doing the same (SPEC §5).
 */

import { eventListSchema, eventsQuery, idParams, runEventSchema, wsQuery } from '@trellis/client/schemas';
import { HttpProblem } from '../http/problem.ts';
import type { Api } from '../http/route.ts';
import { acquireStream, engineOf } from '../streams/engine.ts';
import { resumeAfter, streamSse, wantsEventStream } from '../streams/sse.ts';
import { streamWebSocket } from '../streams/websocket.ts';

const MAX_EVENTS_PAGE = 1000;

export function eventRoutes(api: Api): void {
  const { ctx } = api;
  const byId = ({ params }: { params: { id: string } }) => params.id;

  api.route({
    method: 'GET',
    path: '/workflow_runs/:id/events',
    operationId: 'listRunEvents',
    summary: "The run's events after `after` (JSON), or a live stream with Accept: text/event-stream",
    description:
      'SSE frames carry `id: <seq>`, `event: <type>` and the event as data; reconnecting with Last-Event-ID (or ?after=) resumes with no gap and no duplicate. A final `end` frame follows the terminal event. Access is re-checked while the stream is open: a revoked token or a withdrawn role ends it with an `event: close` frame whose data has `code` TOKEN_REVOKED or ACCESS_WITHDRAWN. An EventSource may pass the token as ?token= (header preferred).',
    tags: ['events'],
    access: { kind: 'run', role: 'viewer', runId: byId },
    params: idParams,
    query: eventsQuery(MAX_EVENTS_PAGE),
    headers: [{ name: 'Last-Event-ID', description: 'SSE resume point (the last seq received).' }],
    responses: {
      200: {
        description: 'events, oldest first; with Accept: text/event-stream, a live stream of them',
        schema: eventListSchema,
        also: { contentType: 'text/event-stream', schema: runEventSchema },
      },
    },
    handler: async ({ run, query, req, reply, principal }) => {
      const engine = engineOf(ctx);
      if (wantsEventStream(req)) {
        const after = resumeAfter(req, query.after);
        if (after === 'invalid')
          throw new HttpProblem('BAD_REQUEST', 'Last-Event-ID must be an event seq (a non-negative integer)');
        return streamSse(ctx, req, reply, {
          runId: run!.id,
          after,
          access: { principal, workflowId: run!.workflowId, role: 'viewer' },
        });
      }
      return { items: await engine.listEvents(run!.id, query.after, query.limit) };
    },
  });

  api.route({
    method: 'GET',
    path: '/ws/workflow_runs/:id',
    operationId: 'watchRun',
    summary: 'WebSocket: replays events after `after`, then streams live ones',
    description:
      'Messages are JSON: `{ kind: "event", event }` per event, then `{ kind: "end", status, lastSeq }` and close 1000. A client that falls behind is closed with 4008; reconnect with after=<last seq>. Access is re-checked while the socket is open: a revoked or expired token closes it with 4401, a withdrawn role with 4403 (within a few seconds). The token goes in the Authorization header or ?token=.',
    tags: ['events'],
    access: { kind: 'run', role: 'viewer', runId: byId },
    params: idParams,
    query: wsQuery,
    websocket: true,
    responses: { 101: { description: 'switching to WebSocket' }, 426: { description: 'not a WebSocket upgrade' } },
    // The stream slot is taken before the upgrade (429 as plain HTTP), released when the socket ends.
    beforeUpgrade: ({ principal }) => acquireStream(ctx, principal.name),
    socketHandler: (socket, { run, query, principal }, release) =>
      streamWebSocket(
        ctx,
        socket,
        { runId: run!.id, after: query.after, access: { principal, workflowId: run!.workflowId, role: 'viewer' } },
        release ?? (() => undefined),
      ),
  });
}
