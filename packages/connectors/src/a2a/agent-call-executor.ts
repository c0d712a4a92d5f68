/**
 * The `agent_call` executor (SPEC §1, §6) on the official A2A SDK.
 *
 * Durability: the remote task id is saved (`ctx.saveRemoteRef`) as soon as the agent names it
 * and before any waiting, so a worker that restarts re-attaches with GetTask/SubscribeToTask
 * instead of sending the message twice. The first message's id is the idempotency key, so an
 * agent that deduplicates by message id is safe even in the window before the id is saved.
 */
import type { Message, SendMessageRequest, Task } from '@a2a-js/sdk';
import type { Client } from '@a2a-js/sdk/client';
import type { CancelContext, ExecutionResult, Executor, ExecutorContext, NodeOf } from '@trellis/core';
import { TrellisError } from '@trellis/core';
import { type SecretSource, traceHeadersFor } from '@trellis/runtime';
import { redacting, renderHeaders, SecretRedactor } from '../auth/headers.ts';
import type { AgentRef, AgentResolver } from './agent-registry.ts';
import { DEFAULT_A2A_LIMITS } from './limits.ts';
import { acceptsData, buildMessage, costOf, INTERRUPTED_STATES, isSettled, outcomeOf, outputOf } from './results.ts';
import { TaskTracker } from './task-tracker.ts';
import { A2AClientPool, toAgentError } from './transport.ts';

/** What `agent_call` stores as `remoteRef`. */
export interface A2ARemoteRef {
  kind: 'a2a';
  agentUrl: string;
  taskId: string;
  contextId: string;
}

export interface AgentCallExecutorDeps {
  /** Finds a node's agent (registered id or name, or `{ url }`). */
  agents: AgentResolver;
  /** The outbound guard's fetch. */
  fetch: typeof fetch;
  /** Delay between GetTask polls of an agent that cannot stream (default 250 ms, growing to 2 s). */
  pollIntervalMs?: number;
  /** How long a CancelTask sent on cancellation may take (default 5 s, `TRELLIS_A2A_CANCEL_TIMEOUT_MS`). */
  cancelTimeoutMs?: number;
  /**
   * How long a cancelled blocking send stays open to learn the agent's task id, so CancelTask
   * can name it (default 2 s, `TRELLIS_A2A_CANCEL_GRACE_MS`).
   */
  cancelGraceMs?: number;
  /** Values for `{{ $secrets.NAME }}` in registered agents' headers. */
  secrets?: SecretSource;
  /** Hides every secret value sent to an agent in what comes back (shared with the registry). */
  redactor?: SecretRedactor;
}

function isRef(v: unknown): v is A2ARemoteRef {
  return (
    typeof v === 'object' && v !== null && (v as A2ARemoteRef).kind === 'a2a' && typeof (v as A2ARemoteRef).taskId === 'string'
  );
}

export function createAgentCallExecutor(deps: AgentCallExecutorDeps): Executor {
  const pool = new A2AClientPool(deps.fetch);
  const basePoll = deps.pollIntervalMs ?? 250;
  const cancelTimeoutMs = deps.cancelTimeoutMs ?? DEFAULT_A2A_LIMITS.cancelTimeoutMs;
  const cancelGraceMs = deps.cancelGraceMs ?? DEFAULT_A2A_LIMITS.cancelGraceMs;

  const redactor = deps.redactor ?? new SecretRedactor();
  /** Agents (by URL and card) whose card says they stream but whose stream failed: they get message/send. */
  const streamFailed = new Set<string>();

  return {
    // Everything that comes back — output, a waiting prompt, an error — is redacted.
    execute: (input, ctx) => redacting(redactor, () => execute(input, ctx)),
    cancel,
  };

  /**
   * The run ended while this node waited on the agent's task (input-required): an explicit
   * A2A `tasks/cancel` for that task. Nothing is sent as a reply and no decision is invented.
   */
  async function cancel(ctx: CancelContext): Promise<void> {
    const ref = isRef(ctx.remoteRef) ? ctx.remoteRef : undefined;
    if (!ref) return;
    const node = ctx.node as NodeOf<'agent_call'>;
    const agent = await deps.agents.resolve(node.agent as AgentRef);
    if (agent.url !== ref.agentUrl) return; // the registration moved: the task is not this agent's
    const headers = await renderHeaders(agent.headers, deps.secrets, redactor);
    const client = await pool.get(`${agent.url}#${agent.cardHash}`, agent.card, headers);
    await cancelQuietly(client, ref.taskId, cancelTimeoutMs);
  }

  async function execute(input: unknown, ctx: ExecutorContext): Promise<ExecutionResult> {
    const node = ctx.node as NodeOf<'agent_call'>;
    const agent = await deps.agents.resolve(node.agent as AgentRef);
    const headers = await renderHeaders(agent.headers, deps.secrets, redactor);
    const agentKey = `${agent.url}#${agent.cardHash}`;
    const client = await pool.get(agentKey, agent.card, headers);
    let streaming = agent.card.capabilities?.streaming === true && !streamFailed.has(agentKey);
    // An agent (or skill) that declares text-only input modes gets the input as JSON text.
    const dataAsText = !acceptsData(agent.card, node.skill);
    const signal = ctx.signal;
    // Traced runs: every request of this attempt carries its W3C trace context (traceparent).
    const trace = traceHeadersFor(ctx);
    const opts = (s: AbortSignal) => (trace.traceparent ? { signal: s, serviceParameters: trace } : { signal: s });
    let ref: A2ARemoteRef | undefined = isRef(ctx.remoteRef) ? ctx.remoteRef : undefined;
    const metadata = {
      trellis: { runId: ctx.runId, nodeId: ctx.nodeId, attempt: ctx.attempt, idempotencyKey: ctx.idempotencyKey },
      ...(node.skill ? { skill: node.skill } : {}),
    };

    // When replying to an input-required task, the task still shows the old question until
    // the agent moves on; that status (identified by its timestamp) does not count as settled.
    let staleStamp: string | undefined;
    const done = (task: Task | undefined): boolean => {
      const status = task?.status;
      if (!isSettled(status?.state)) return false;
      return !(staleStamp !== undefined && INTERRUPTED_STATES.has(status?.state as never) && status?.timestamp === staleStamp);
    };

    const remember = async (task: Task | undefined): Promise<void> => {
      if (!task?.id || ref?.taskId === task.id) return;
      ref = { kind: 'a2a', agentUrl: agent.url, taskId: task.id, contextId: task.contextId };
      await ctx.saveRemoteRef(ref);
    };

    const poll = async (tracker: TaskTracker): Promise<Task> => {
      let delay = basePoll;
      for (;;) {
        const id = tracker.task?.id ?? ref?.taskId;
        if (!id) throw new TrellisError('AGENT_ERROR', `${agent.name} did not return a task id`, { category: 'remote' });
        tracker.task = await client.getTask({ tenant: '', id }, opts(signal));
        if (done(tracker.task)) return tracker.task;
        await sleep(delay, signal);
        delay = Math.min(2000, Math.round(delay * 1.5));
      }
    };

    /** Follows a known task to a settled state: SubscribeToTask when the agent streams, else GetTask polls. */
    const follow = async (tracker: TaskTracker): Promise<Task> => {
      if (streaming && tracker.task) {
        try {
          for await (const ev of client.resubscribeTask({ tenant: '', id: tracker.task.id }, opts(signal))) {
            tracker.apply(ev);
            if (done(tracker.task)) return tracker.task as Task;
          }
        } catch (err) {
          if (signal.aborted || (err instanceof TrellisError && err.retryable)) throw err;
          // The agent may refuse to subscribe (e.g. the task just settled): fall back to GetTask.
        }
      }
      return poll(tracker);
    };

    const send = async (first: SendMessageRequest, tracker: TaskTracker): Promise<void> => {
      let request = first;
      // A cancel that arrives after the message left but before the agent named its task
      // must still reach the agent: keep the request open a moment to learn the task id (the
      // catch below then sends CancelTask); the run itself is cancelled at once regardless.
      const sending = new AbortController();
      const onAbort = () => {
        if (tracker.task?.id) sending.abort(signal.reason);
        else setTimeout(() => sending.abort(signal.reason), cancelGraceMs).unref?.();
      };
      if (signal.aborted) throw signal.reason;
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        if (streaming) {
          let received = false;
          try {
            for await (const ev of client.sendMessageStream(request, opts(sending.signal))) {
              received = true;
              tracker.apply(ev);
              if (signal.aborted) throw signal.reason;
              await remember(tracker.task);
              if (tracker.message || done(tracker.task)) return;
            }
            if (tracker.message) return;
            await follow(tracker);
            return;
          } catch (err) {
            // A stream that could not even start (not SSE, method refused): message/send, now
            // and for this agent's later calls. Once an event came, the stream's failure stands.
            if (received || signal.aborted || !streamUnsupported(err)) throw err;
            streamFailed.add(agentKey);
            streaming = false;
            ctx.logger.warn('the agent announced streaming but its stream failed; using message/send', {
              agent: agent.name,
              error: (err as Error).message,
            });
            request = { ...request, configuration: { ...(request.configuration as object), returnImmediately: true } as never };
          }
        }
        const result = await client.sendMessage(request, opts(sending.signal));
        if (!('messageId' in result && 'parts' in result && !('status' in result)) && signal.aborted) {
          tracker.task = result as Task;
          throw signal.reason;
        }
        return await afterSend(result, tracker);
      } catch (err) {
        if (signal.aborted && sending.signal.aborted && !tracker.task?.id) throw signal.reason;
        throw err;
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    };

    const afterSend = async (result: Task | Message, tracker: TaskTracker): Promise<void> => {
      if ('messageId' in result && 'parts' in result && !('status' in result)) {
        tracker.message = result as Message;
        return;
      }
      tracker.task = result as Task;
      await remember(tracker.task);
      if (!done(tracker.task)) await poll(tracker);
    };

    const request = (
      text: string | undefined,
      data: unknown,
      messageId: string,
      decision?: { approved: boolean; by: string },
    ): SendMessageRequest => ({
      tenant: '',
      message: buildMessage({
        messageId,
        text,
        data,
        taskId: ref?.taskId,
        contextId: ref?.contextId,
        dataAsText,
        // A reply to the agent's question says, in metadata, that a person approved going on
        // (a Trellis agent decides its own gate with it; other agents ignore it).
        metadata: decision ? { ...metadata, trellis: { ...metadata.trellis, decision } } : metadata,
      }),
      // returnImmediately: a non-streaming agent hands back the task id at once, so it is
      // saved before the (possibly long) wait, which then happens by polling.
      configuration: { acceptedOutputModes: [], taskPushNotificationConfig: undefined, returnImmediately: !streaming },
      metadata,
    });

    const tracker = new TaskTracker();
    try {
      // The agent was registered again at another URL since the task started (moved to another
      // host, or restarted on another port): its task may live on there. Ask for it before
      // starting anything, so a resumed attempt answers (or follows) the same task instead of
      // sending its message twice; a task the agent does not know means a new one.
      let moved: Task | undefined;
      if (ref && ref.agentUrl !== agent.url) {
        moved = await taskIfKnown(client, ref.taskId, opts(signal));
        if (moved) {
          ref = { ...ref, agentUrl: agent.url };
          await ctx.saveRemoteRef(ref);
        }
      }
      if (ref && ref.agentUrl === agent.url) {
        tracker.task = moved ?? (await client.getTask({ tenant: '', id: ref.taskId }, opts(signal)));
        const state = tracker.task.status?.state;
        if (ctx.decision && !ctx.decision.approved) {
          await cancelQuietly(client, ref.taskId, cancelTimeoutMs);
          throw new TrellisError('GATE_REJECTED', `${ctx.decision.by} rejected: ${ctx.decision.comment ?? 'no reason given'}`, {
            category: 'user',
          });
        }
        if (ctx.decision && state !== undefined && INTERRUPTED_STATES.has(state)) {
          staleStamp = tracker.task.status?.timestamp ?? '';
          const reply = request(
            ctx.decision.comment,
            ctx.decision.data,
            `${ctx.idempotencyKey}:reply:${tracker.task.status?.timestamp ?? ''}`,
            { approved: true, by: ctx.decision.by },
          );
          await send(reply, tracker);
        } else if (!isSettled(state)) {
          await follow(tracker);
        }
      } else {
        ref = undefined;
        const text = node.message !== undefined ? await ctx.renderTemplate(node.message) : undefined;
        await send(request(text, input, ctx.idempotencyKey), tracker);
      }
    } catch (err) {
      if (signal.aborted && (ref?.taskId ?? tracker.task?.id)) {
        await cancelQuietly(client, (ref?.taskId ?? tracker.task?.id) as string, cancelTimeoutMs);
      }
      throw toAgentError(err, agent.name);
    }

    if (tracker.message) {
      const cost = costOf(tracker.message.metadata);
      if (cost) ctx.reportCost(cost);
      return { kind: 'succeeded', output: outputOf([], tracker.message) };
    }
    const task = tracker.task as Task;
    const cost = costOf(task.status?.message?.metadata, task.metadata);
    if (cost) ctx.reportCost(cost);
    return outcomeOf(task, agent.name);
  }
}

/**
 * True when a stream failed for want of streaming, not for the request: the answer was not SSE
 * (Mastra answers `text/plain`), the endpoint refused the method (404, 405, 415, 501), or the
 * JSON-RPC error is "method not found" / "unsupported operation".
 */
function streamUnsupported(err: unknown): boolean {
  if (err instanceof TrellisError) return false;
  for (let e: unknown = err, i = 0; e instanceof Error && i < 4; e = e.cause, i++) {
    const code = (e as { code?: unknown }).code;
    if (code === -32601 || code === -32004) return true;
    if (/Invalid response Content-Type for SSE stream|HTTP error establishing stream[^:]*: (404|405|415|501)\b/.test(e.message))
      return true;
  }
  return false;
}

/** The task, or undefined when the agent answers that it has no task with this id (A2A TaskNotFoundError). */
async function taskIfKnown(client: Client, taskId: string, options: Parameters<Client['getTask']>[1]): Promise<Task | undefined> {
  try {
    return await client.getTask({ tenant: '', id: taskId }, options);
  } catch (err) {
    if (taskNotFound(err)) return undefined;
    throw err;
  }
}

/** A2A's TaskNotFoundError: JSON-RPC code -32001, or HTTP 404 from a REST binding. */
function taskNotFound(err: unknown): boolean {
  for (let e: unknown = err, i = 0; e instanceof Error && i < 4; e = e.cause, i++) {
    const code = (e as { code?: unknown }).code;
    if (code === -32001 || code === 404) return true;
    if (/\btask\b.*\bnot found\b|TaskNotFound/i.test(e.message)) return true;
  }
  return false;
}

async function cancelQuietly(client: Client, taskId: string, timeoutMs: number): Promise<void> {
  try {
    await client.cancelTask({ tenant: '', id: taskId, metadata: undefined }, { signal: AbortSignal.timeout(timeoutMs) });
  } catch {
    // Best effort: the run is cancelled whether or not the agent honours it (SPEC §1).
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
