/**
 * The SDK's request handler for one workflow's agent, with one addition: resubscribing to a task
 * that is `working` while nothing in this process follows its run (the server restarted, or the
 * task was created by another server on the same PostgreSQL) first attaches a follower to the
 * run, so the subscriber gets the node transitions and the final status — not just the task
 * as it stands.
 */
import { type AgentCard, type StreamResponse, type SubscribeToTaskRequest, TaskState } from '@a2a-js/sdk';
import {
  DefaultExecutionEventBusManager,
  DefaultRequestHandler,
  ExecutionEventQueue,
  ResultManager,
  type ServerCallContext,
} from '@a2a-js/sdk/server';
import { runIdOf, type WorkflowAgentExecutor } from './executor.ts';
import type { WorkflowTaskStore } from './task-store.ts';

export class WorkflowRequestHandler extends DefaultRequestHandler {
  constructor(
    card: AgentCard,
    private readonly tasks: WorkflowTaskStore,
    private readonly executor: WorkflowAgentExecutor,
    private readonly buses = new DefaultExecutionEventBusManager(),
  ) {
    super(card, tasks, executor, buses);
  }

  override async *resubscribe(
    params: SubscribeToTaskRequest,
    context: ServerCallContext,
  ): AsyncGenerator<StreamResponse, void, undefined> {
    await this.reattach(params.id, context);
    yield* super.resubscribe(params, context);
  }

  /** Follows the run of a `working` task nobody here follows, on a bus the subscriber joins. */
  private async reattach(taskId: string, context: ServerCallContext): Promise<void> {
    if (!taskId || this.buses.getByTaskId(taskId, context)) return;
    const task = await this.tasks.load(taskId, context);
    const runId = runIdOf(task);
    if (!task || !runId || task.status?.state !== TaskState.TASK_STATE_WORKING) return;
    if (this.buses.getByTaskId(taskId, context)) return;
    const bus = this.buses.createOrGetByTaskId(taskId, context);
    // What the follower publishes is recorded in the task, as for an execution.
    const results = new ResultManager(this.tasks, context);
    const queue = new ExecutionEventQueue(bus);
    void (async () => {
      for await (const event of queue.events()) await results.processEvent(event);
    })().catch(() => {});
    // The subscriber's queue joins the bus synchronously after this returns; the follower
    // publishes only after its first await.
    void this.executor
      .follow(bus, { taskId, contextId: task.contextId }, runId)
      .catch(() => bus.finished())
      .finally(() => this.buses.cleanupByTaskId(taskId, context));
  }
}
