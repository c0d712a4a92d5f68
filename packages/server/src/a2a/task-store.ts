/**
 * The A2A tasks of one workflow, kept in the database (table `a2a_tasks`, the official SDK's
 * `DatabaseTaskStore` layout; the workflow id is the tenant, the calling principal the owner), so
 * a task outlives the server that created it: after a restart `tasks/get`, resubscribing,
 * `tasks/cancel` and the answer to an `input-required` task find it, with its run.
 *
 * The run is the truth about a task's state. A task that is being followed in this process (state
 * `submitted` or `working`) is held in memory and written when its state changes, not at every
 * node transition; a task read from the database that is not finished is brought up to date from
 * its run (a restart, another server on the same PostgreSQL, or a gate decided in the console
 * while nobody followed the task): see {@link TaskRunLink.refresh}.
 *
 * A task moved to `canceled` by the SDK (a `tasks/cancel` on a task no execute() follows) cancels
 * the run behind it.
 */
import { type Task, TaskState } from '@a2a-js/sdk';
import { ServerCallContext, type TaskStore } from '@a2a-js/sdk/server';
import { DatabaseTaskStore } from '@a2a-js/sdk/server/database';
import type { Database } from '@trellis/store';
import type { Kysely } from 'kysely';

/** What the store needs from the executor: the run behind a task, now. */
export interface TaskRunLink {
  /**
   * The task brought up to date from its run (a new status when the run moved on), or undefined
   * when the stored task is still right.
   */
  refresh(task: Task): Promise<Task | undefined>;
  /** The SDK cancelled the task (no execute() was following it): cancel its run. */
  cancelled(task: Task): void;
}

const FOLLOWED = new Set<TaskState>([TaskState.TASK_STATE_SUBMITTED, TaskState.TASK_STATE_WORKING]);
const FINAL = new Set<TaskState>([
  TaskState.TASK_STATE_COMPLETED,
  TaskState.TASK_STATE_FAILED,
  TaskState.TASK_STATE_CANCELED,
  TaskState.TASK_STATE_REJECTED,
]);

export function isFinalTaskState(state: TaskState | undefined): boolean {
  return state !== undefined && FINAL.has(state);
}

export class WorkflowTaskStore implements TaskStore {
  private readonly rows: DatabaseTaskStore<Database>;
  /** Tasks being followed here (owner + task id → the task and the state last written). */
  private readonly followed = new Map<string, { task: Task; written: TaskState | undefined }>();

  constructor(
    db: Kysely<Database>,
    private readonly workflowId: string,
    private readonly link: TaskRunLink,
  ) {
    this.rows = new DatabaseTaskStore(db, { tableName: 'a2a_tasks' });
  }

  /** The caller's scope in the table: this workflow, this principal. */
  private scope(context: ServerCallContext): ServerCallContext {
    return new ServerCallContext({ user: context.user, tenant: this.workflowId });
  }

  private key(context: ServerCallContext, taskId: string): string {
    return `${context.user?.userName ?? ''}\u0000${taskId}`;
  }

  async save(task: Task, context: ServerCallContext): Promise<void> {
    const key = this.key(context, task.id);
    const state = task.status?.state;
    if (state !== undefined && FOLLOWED.has(state)) {
      // Node transitions change only the message: written when the state changes.
      const held = this.followed.get(key);
      const write = held?.written !== state;
      this.followed.set(key, { task: structuredClone(task), written: write ? state : held?.written });
      if (write) await this.rows.save(task, this.scope(context));
      return;
    }
    this.followed.delete(key);
    await this.rows.save(task, this.scope(context));
    if (state === TaskState.TASK_STATE_CANCELED) this.link.cancelled(task);
  }

  async load(taskId: string, context: ServerCallContext): Promise<Task | undefined> {
    const held = this.followed.get(this.key(context, taskId));
    if (held) return structuredClone(held.task);
    const task = await this.rows.load(taskId, this.scope(context));
    if (!task || isFinalTaskState(task.status?.state)) return task;
    const fresh = await this.link.refresh(task);
    if (!fresh) return task;
    await this.rows.save(fresh, this.scope(context));
    return fresh;
  }

  list(...args: Parameters<TaskStore['list']>): ReturnType<TaskStore['list']> {
    return this.rows.list(args[0], this.scope(args[1]));
  }
}
