/**
 * Folds a stream of A2A events (`task`, `statusUpdate`, `artifactUpdate`, `message`) into the
 * latest task snapshot, the way the agent's own task store does, so a streamed task and a
 * polled one end up as the same `Task` value.
 */
import type { Artifact, Message, StreamResponse, Task } from '@a2a-js/sdk';

export class TaskTracker {
  task: Task | undefined;
  /** Set when the agent answered with a message instead of a task. */
  message: Message | undefined;

  constructor(task?: Task) {
    this.task = task;
  }

  apply(event: StreamResponse): void {
    const p = event.payload;
    if (!p) return;
    switch (p.$case) {
      case 'task':
        this.task = { ...p.value, artifacts: [...p.value.artifacts] };
        return;
      case 'message':
        if (!this.task) this.message = p.value;
        return;
      case 'statusUpdate': {
        const task = this.ensure(p.value.taskId, p.value.contextId);
        task.status = p.value.status;
        if (p.value.metadata && Object.keys(p.value.metadata).length > 0)
          task.metadata = { ...task.metadata, ...p.value.metadata };
        return;
      }
      case 'artifactUpdate': {
        const task = this.ensure(p.value.taskId, p.value.contextId);
        const artifact = p.value.artifact;
        if (artifact) task.artifacts = mergeArtifact(task.artifacts, artifact, p.value.append);
        return;
      }
    }
  }

  private ensure(taskId: string, contextId: string): Task {
    if (!this.task) this.task = { id: taskId, contextId, status: undefined, artifacts: [], history: [], metadata: undefined };
    return this.task;
  }
}

function mergeArtifact(list: Artifact[], incoming: Artifact, append: boolean): Artifact[] {
  const i = list.findIndex((a) => a.artifactId === incoming.artifactId);
  if (i < 0) return [...list, incoming];
  const current = list[i] as Artifact;
  const merged = append ? { ...current, parts: [...current.parts, ...incoming.parts] } : incoming;
  return list.map((a, j) => (j === i ? merged : a));
}
