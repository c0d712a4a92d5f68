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
  /** Tasks being followed here (owner + task id): the task, and whether its row exists. */
  private readonly followed = new Map<string, { task: Task; stored: boolean }>();
  /** Writes not yet landed, per task (they land in order): reads see the task they write. */
  private readonly writing = new Map<string, { task: Task; done: Promise<void> }>();

  constructor(
    db: Kysely<Database>,
    private readonly workflowId: string,
    private readonly link: TaskRunLink,
    private readonly onWriteError: (err: unknown) => void = () => {},
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

  /** A task the executor has just created (not in the database yet): no read needed to find it. */
  hold(task: Task, context: ServerCallContext): void {
    this.followed.set(this.key(context, task.id), { task: structuredClone(task), stored: false });
  }

  /**
   * Writes the task. The first write of a task is awaited (from then on the task is known, also
   * after a restart); later writes land in the background, in order — the run behind the task
   * is durable, and a read brings a task whose last write was lost up to date from it.
   */
  private write(key: string, task: Task, context: ServerCallContext, awaited: boolean): Promise<void> {
    const snapshot = structuredClone(task);
    const before = this.writing.get(key)?.done ?? Promise.resolve();
    const done: Promise<void> = before
      .then(() => this.rows.save(snapshot, this.scope(context)))
      .catch((err: unknown) => {
        if (!awaited) this.onWriteError(err);
        if (awaited) throw err;
      })
      .finally(() => {
        if (this.writing.get(key)?.done === done) this.writing.delete(key);
      });
    this.writing.set(key, { task: snapshot, done: done.catch(() => {}) });
    return awaited ? done : Promise.resolve();
  }

  async save(task: Task, context: ServerCallContext): Promise<void> {
    const key = this.key(context, task.id);
    const state = task.status?.state;
    const held = this.followed.get(key);
    if (state !== undefined && FOLLOWED.has(state)) {
      // Submitted then working at once: written when first working; node transitions (which
      // change only the message) are not written.
      const stored = held?.stored === true || this.writing.has(key);
      const first = state === TaskState.TASK_STATE_WORKING && !stored;
      this.followed.set(key, { task: structuredClone(task), stored: stored || first });
      if (first) await this.write(key, task, context, true);
      return;
    }
    this.followed.delete(key);
    await this.write(key, task, context, held !== undefined && !held.stored);
    if (state === TaskState.TASK_STATE_CANCELED) this.link.cancelled(task);
  }

  async load(taskId: string, context: ServerCallContext): Promise<Task | undefined> {
    const key = this.key(context, taskId);
    const held = this.followed.get(key) ?? this.writing.get(key);
    if (held) return structuredClone(held.task);
    const task = await this.rows.load(taskId, this.scope(context));
    if (!task || isFinalTaskState(task.status?.state)) return task;
    const fresh = await this.link.refresh(task);
    if (!fresh) return task;
    await this.write(key, fresh, context, false);
    return fresh;
  }

  list(...args: Parameters<TaskStore['list']>): ReturnType<TaskStore['list']> {
    return this.rows.list(args[0], this.scope(args[1]));
  }

  /** Resolves once every write issued so far has landed (shutdown, tests). */
  async flush(): Promise<void> {
    await Promise.all([...this.writing.values()].map((w) => w.done));
  }
}
