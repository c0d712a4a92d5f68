/** A streaming A2A agent that takes its time (skill `wait`) and honours CancelTask. */
import { TaskState } from '@a2a-js/sdk';
import type { AgentExecutor } from '@a2a-js/sdk/server';
import {
  agentMessage,
  dataPart,
  publishState,
  readUserMessage,
  sleepUnless,
  startAgent,
  startTask,
  textPart,
} from './a2a-kit.ts';

export function startSlowAgent(port?: number) {
  const cancelled = new Set<string>();
  const executor: AgentExecutor = {
    cancelTask: async (taskId) => {
      cancelled.add(taskId);
    },
    execute: async (rc, bus) => {
      const { data } = readUserMessage(rc.userMessage);
      const ids = startTask(rc, bus);
      const ms = Math.min(60_000, Number(data.delayMs ?? 2000));
      const finished = await sleepUnless(ms, () => cancelled.has(ids.taskId));
      if (finished) publishState(bus, ids, TaskState.TASK_STATE_COMPLETED, agentMessage(ids, [dataPart({ waitedMs: ms })]));
      else publishState(bus, ids, TaskState.TASK_STATE_CANCELED, agentMessage(ids, [textPart('stopped on request')]));
      bus.finished();
    },
  };
  return startAgent(
    {
      name: 'slow-agent',
      description: 'Waits delayMs (default 2 s) before answering; cancellable',
      streaming: true,
      skills: [{ id: 'wait', name: 'Wait', description: 'Takes its time', tags: ['demo', 'slow'] }],
      executor,
    },
    { port },
  );
}
