/**
 * A workflow as an A2A agent: the `AgentExecutor` behind `/a2a/workflows/:id`.
 *
 * Task ↔ run: a message on a new task starts a run (the message's data part is the input; a text
 * part becomes `{ "message": … }` when there is no data part), under the idempotency key
 * `a2a:<taskId>`. Task states follow the run: queued/running → working (each node transition is a
 * status update with a short text), succeeded → completed with the output as a data part, failed →
 * failed, cancelled → canceled, and a run waiting at a human gate → input-required with the gate's
 * prompt. The caller's next message on that task decides the gate — a data part
 * `{ "approved": true|false, "comment"?, "data"? }` or the text "approve" / "reject" — and the task
 * follows the run again. `tasks/cancel` cancels the run. The final message's metadata carries the
 * run's cost: `{ "costUsd", "usage": { inputTokens, outputTokens } }`.
 */
import { randomUUID } from 'node:crypto';
import { type Message, type Part, Role, type Task, TaskState } from '@a2a-js/sdk';
import { AgentEvent, type AgentExecutor, type ExecutionEventBus, type RequestContext } from '@a2a-js/sdk/server';
import { isTerminalRunStatus, type RunEvent, type RunRecord, TrellisError } from '@trellis/core';
import type { Engine } from '@trellis/runtime';
import { traceParentField } from '../http/trace-context.ts';
import type { TaskRunLink } from './task-store.ts';

export interface WorkflowAgentOptions {
  engine: Engine;
  workflowId: string;
  /** The principal calling (resolved by the route before the SDK runs). */
  principalOf(rc: RequestContext): string;
  /** The caller's W3C traceparent (HTTP header), normalised; the run's trace continues it. */
  traceParentOf?(rc: RequestContext): string | undefined;
  /** The version to start (the latest, read when the call arrives). */
  versionOf(): Promise<number>;
  /** Whether the workflow's inputSchema has a `message` property (text parts map onto it). */
  takesMessage(): Promise<boolean>;
  /** Hands a task just created to the task store (so it needs no read to find it). */
  hold?(task: Task, rc: RequestContext): void;
}

type Ids = { taskId: string; contextId: string };

function textPart(text: string): Part {
  return { content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' };
}

function dataPart(data: Record<string, unknown>): Part {
  return { content: { $case: 'data', value: data }, metadata: undefined, filename: '', mediaType: 'application/json' };
}

function agentMessage(ids: Ids, parts: Part[], metadata?: Record<string, unknown>, messageId?: string): Message {
  return {
    messageId: messageId ?? randomUUID(),
    role: Role.ROLE_AGENT,
    parts,
    taskId: ids.taskId,
    contextId: ids.contextId,
    extensions: [],
    metadata: metadata ?? {},
    referenceTaskIds: [],
  };
}

function publishState(bus: ExecutionEventBus, ids: Ids, state: TaskState, message?: Message, metadata?: Record<string, unknown>) {
  bus.publish(
    AgentEvent.statusUpdate({
      taskId: ids.taskId,
      contextId: ids.contextId,
      status: { state, timestamp: new Date().toISOString(), message },
      metadata: metadata ?? {},
    }),
  );
}

/** The text and the merged data parts of a message. */
function readMessage(message: Message): { text: string; data: Record<string, unknown> | undefined } {
  const texts: string[] = [];
  let data: Record<string, unknown> | undefined;
  for (const p of message.parts) {
    if (p.content?.$case === 'text') texts.push(p.content.value);
    if (p.content?.$case === 'data' && p.content.value && typeof p.content.value === 'object')
      data = { ...data, ...(p.content.value as Record<string, unknown>) };
  }
  return { text: texts.join('\n'), data };
}

/** The run's cost in the A2A cost convention (metadata of the final message). */
function costMetadata(r: RunRecord): Record<string, unknown> {
  let inputTokens = 0;
  let outputTokens = 0;
  for (const n of Object.values(r.nodes))
    for (const a of n.attempts) {
      inputTokens += a.usage?.inputTokens ?? 0;
      outputTokens += a.usage?.outputTokens ?? 0;
    }
  return { costUsd: r.costUsd, usage: { inputTokens, outputTokens }, trellis: { runId: r.id, workflowId: r.workflowId } };
}

/** The run behind a task, from the task's metadata (set when the run started). */
export function runIdOf(task: Task | undefined): string | undefined {
  const id = task?.metadata?.trellisRunId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/**
 * The task status a run stands for: queued/running → working, waiting at a gate →
 * input-required with the prompt, succeeded → completed with the output as a data part,
 * failed → failed, cancelled → canceled; a final or input-required status carries the run's cost.
 * Their message ids are made from the run (not random), so the same status reached twice — by
 * the process following the run and by a read that brings a stored task up to date — is one
 * message in the task's history.
 */
export function statusOfRun(
  r: RunRecord,
  ids: Ids,
): { state: TaskState; message: Message | undefined; metadata: Record<string, unknown> } {
  const cost = costMetadata(r);
  const id = (what: string) => `trellis:${r.id}:${what}`;
  switch (r.status) {
    case 'succeeded': {
      const out = r.output;
      const payload =
        out !== null && typeof out === 'object' && !Array.isArray(out) ? (out as Record<string, unknown>) : { output: out };
      return {
        state: TaskState.TASK_STATE_COMPLETED,
        message: agentMessage(ids, [dataPart(payload)], cost, id('completed')),
        metadata: cost,
      };
    }
    case 'waiting': {
      const gate = Object.entries(r.nodes).find(([, n]) => n.status === 'waiting');
      return {
        state: TaskState.TASK_STATE_INPUT_REQUIRED,
        message: agentMessage(
          ids,
          [textPart(gate?.[1].prompt ?? 'a decision is needed'), dataPart({ gate: gate?.[0] ?? null, runId: r.id })],
          cost,
          id(`waiting:${gate?.[0] ?? ''}`),
        ),
        metadata: cost,
      };
    }
    case 'cancelled':
      return {
        state: TaskState.TASK_STATE_CANCELED,
        message: agentMessage(ids, [textPart('the run was cancelled')], cost, id('cancelled')),
        metadata: cost,
      };
    case 'queued':
    case 'running':
      return { state: TaskState.TASK_STATE_WORKING, message: undefined, metadata: {} };
    default:
      return {
        state: TaskState.TASK_STATE_FAILED,
        message: agentMessage(
          ids,
          [textPart(r.error ? `${r.error.code}: ${r.error.message}` : `the run ended ${r.status}`)],
          cost,
          id('failed'),
        ),
        metadata: cost,
      };
  }
}

export class WorkflowAgentExecutor implements AgentExecutor, TaskRunLink {
  /** Task id → run id, for the runs this process started or followed. */
  private readonly runs = new Map<string, string>();

  constructor(private readonly o: WorkflowAgentOptions) {}

  /** The SDK cancelled a task that no execute() was following (it waits for input): cancel its run. */
  cancelled(task: Task): void {
    const runId = this.runs.get(task.id) ?? runIdOf(task);
    if (runId) void this.o.engine.cancelRun(runId, 'cancelled by the A2A caller (tasks/cancel)').catch(() => {});
  }

  /** A stored task brought up to date from its run, or undefined when it is still right. */
  async refresh(task: Task): Promise<Task | undefined> {
    const runId = runIdOf(task);
    const r = runId ? await this.o.engine.getRun(runId) : undefined;
    if (!r) return undefined;
    const now = statusOfRun(r, { taskId: task.id, contextId: task.contextId });
    if (now.state === task.status?.state) return undefined;
    const history = [...task.history];
    if (now.message && !history.some((m) => m.messageId === now.message?.messageId)) history.push(now.message);
    return {
      ...task,
      status: { state: now.state, message: now.message, timestamp: new Date().toISOString() },
      history,
      metadata: { ...task.metadata, ...now.metadata },
    };
  }

  async cancelTask(taskId: string, bus: ExecutionEventBus): Promise<void> {
    const runId = this.runs.get(taskId);
    if (runId) await this.o.engine.cancelRun(runId, 'cancelled by the A2A caller (tasks/cancel)');
    // The following loop of the running execute() reports `canceled`; a task with no live loop
    // (waiting for input) is closed here.
    if (!runId) return;
    const r = await this.o.engine.getRun(runId);
    if (r && r.status !== 'running' && r.status !== 'queued') {
      const ids = { taskId, contextId: '' };
      const now = statusOfRun(r, ids);
      publishState(bus, ids, now.state, now.message, now.metadata);
      bus.finished();
    }
  }

  async execute(rc: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const ids: Ids = { taskId: rc.taskId, contextId: rc.contextId };
    const { engine } = this.o;
    const { text, data } = readMessage(rc.userMessage);
    if (rc.task) {
      // A follow-up on an existing task: it decides the gate the run waits at.
      bus.publish(AgentEvent.task({ ...rc.task, history: [...rc.task.history, rc.userMessage] }));
      const runId = this.runs.get(rc.taskId) ?? (rc.task.metadata?.trellisRunId as string | undefined);
      if (!runId) return this.fail(bus, ids, 'this task is not linked to a run');
      this.runs.set(rc.taskId, runId);
      const r = await engine.getRun(runId);
      const gate = r && Object.entries(r.nodes).find(([, n]) => n.status === 'waiting');
      if (!r || !gate) return this.follow(bus, ids, runId);
      // A calling Trellis says it in metadata; other clients with a data part or the words.
      const fromTrellis = (rc.userMessage.metadata?.trellis as { decision?: { approved?: unknown } } | undefined)?.decision
        ?.approved;
      const approved =
        typeof fromTrellis === 'boolean'
          ? fromTrellis
          : typeof data?.approved === 'boolean'
            ? data.approved
            : /^\s*(approve|approved|yes|ok)\b/i.test(text)
              ? true
              : /^\s*(reject|rejected|no)\b/i.test(text)
                ? false
                : undefined;
      if (approved === undefined) {
        publishState(
          bus,
          ids,
          TaskState.TASK_STATE_INPUT_REQUIRED,
          agentMessage(ids, [
            textPart(
              `${gate[1].prompt ?? 'a decision is needed'} — answer "approve" or "reject" (or a data part { "approved": true|false })`,
            ),
          ]),
        );
        return bus.finished();
      }
      const outcome = await engine.decideGate(runId, gate[0], {
        approved,
        by: this.o.principalOf(rc),
        ...(typeof data?.comment === 'string' ? { comment: data.comment } : text ? { comment: text } : {}),
        ...(data?.data !== undefined
          ? { data: data.data }
          : typeof fromTrellis === 'boolean' && data !== undefined
            ? { data }
            : {}),
      });
      if (!outcome.ok && outcome.reason !== 'not_waiting')
        return this.fail(bus, ids, `the decision was not taken: ${outcome.reason}`);
      publishState(bus, ids, TaskState.TASK_STATE_WORKING);
      return this.follow(bus, ids, runId, gate[0]);
    }

    const task: Task = {
      id: rc.taskId,
      contextId: rc.contextId,
      status: { state: TaskState.TASK_STATE_SUBMITTED, timestamp: new Date().toISOString(), message: undefined },
      artifacts: [],
      history: [rc.userMessage],
      metadata: {},
    };
    let input: unknown = data ?? {};
    if (data === undefined && text) input = (await this.o.takesMessage()) ? { message: text } : { message: text };
    else if (data !== undefined && text && (await this.o.takesMessage()) && data.message === undefined)
      input = { ...data, message: text };
    let runId: string;
    try {
      const started = await engine.startRun({
        workflowId: this.o.workflowId,
        version: await this.o.versionOf(),
        input,
        createdBy: this.o.principalOf(rc),
        idempotencyKey: `a2a:${rc.taskId}`,
        ...traceParentField(this.o.traceParentOf?.(rc)),
      });
      runId = started.runId;
    } catch (err) {
      bus.publish(AgentEvent.task(task));
      const message = err instanceof TrellisError ? `${err.code}: ${err.message}` : 'the run could not start';
      publishState(bus, ids, TaskState.TASK_STATE_REJECTED, agentMessage(ids, [textPart(message)]));
      return bus.finished();
    }
    this.runs.set(rc.taskId, runId);
    const created = { ...task, metadata: { trellisRunId: runId } };
    this.o.hold?.(created, rc);
    bus.publish(AgentEvent.task(created));
    publishState(
      bus,
      ids,
      TaskState.TASK_STATE_WORKING,
      agentMessage(ids, [textPart(`run ${runId} started`)], { trellisRunId: runId }),
    );
    return this.follow(bus, ids, runId);
  }

  private fail(bus: ExecutionEventBus, ids: Ids, message: string): void {
    publishState(bus, ids, TaskState.TASK_STATE_FAILED, agentMessage(ids, [textPart(message)]));
    bus.finished();
  }

  /** Streams node transitions as `working` updates until the run finishes or waits. */
  async follow(bus: ExecutionEventBus, ids: Ids, runId: string, decided?: string): Promise<void> {
    const { engine } = this.o;
    this.runs.set(ids.taskId, runId);
    const sub = engine.subscribe(runId, {
      after: (await engine.getRun(runId))?.lastSeq ?? 0,
      onEvent: (e: RunEvent) => {
        if (!e.nodeId || !e.type.startsWith('node.') || e.type === 'node.queued') return;
        publishState(bus, ids, TaskState.TASK_STATE_WORKING, agentMessage(ids, [textPart(`${e.nodeId}: ${e.type.slice(5)}`)]));
      },
    });
    let r: RunRecord;
    try {
      for (;;) {
        r = await engine.waitForRun(runId, { orWaiting: true });
        if (isTerminalRunStatus(r.status)) break;
        // Still waiting at the gate just decided (the decision is being applied), or moving on.
        const waitingAt = Object.entries(r.nodes).filter(([, n]) => n.status === 'waiting');
        if (r.status === 'waiting' && waitingAt.some(([id]) => id !== decided)) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    } finally {
      sub.close();
    }
    const now = statusOfRun(r, ids);
    publishState(bus, ids, now.state, now.message, now.metadata);
    bus.finished();
  }
}
