/** An A2A agent that asks a question first (input-required), then books (skill `book`). */
import { TaskState } from '@a2a-js/sdk';
import type { AgentExecutor } from '@a2a-js/sdk/server';
import { agentMessage, dataPart, publishState, readUserMessage, startAgent, startTask, textPart } from './a2a-kit.ts';

const executor: AgentExecutor = {
  cancelTask: async (taskId, bus) => {
    publishState(bus, { taskId, contextId: '' }, TaskState.TASK_STATE_CANCELED);
  },
  execute: async (rc, bus) => {
    const { text, data } = readUserMessage(rc.userMessage);
    const ids = startTask(rc, bus);
    if (!rc.task) {
      const hotel = String((data.hotel as { name?: string } | undefined)?.name ?? data.hotel ?? 'the hotel');
      publishState(
        bus,
        ids,
        TaskState.TASK_STATE_INPUT_REQUIRED,
        agentMessage(ids, [textPart(`Which room type at ${hotel}: standard or deluxe?`)]),
      );
    } else {
      const room = String(data.room ?? (text.toLowerCase().includes('deluxe') ? 'deluxe' : 'standard'));
      const booking = { confirmation: `TRL-${rc.taskId.slice(0, 8).toUpperCase()}`, room };
      publishState(
        bus,
        ids,
        TaskState.TASK_STATE_COMPLETED,
        agentMessage(ids, [textPart(`Booked a ${room} room`), dataPart({ booking })]),
      );
    }
    bus.finished();
  },
};

export function startConciergeAgent(port?: number) {
  return startAgent(
    {
      name: 'concierge',
      description: 'Books a room; asks which room type first (input-required)',
      streaming: true,
      skills: [{ id: 'book', name: 'Book', description: 'Books a hotel room', tags: ['travel', 'booking'] }],
      executor,
    },
    { port },
  );
}
