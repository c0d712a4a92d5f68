/**
 * A streaming A2A agent that writes a trip itinerary (skill `write`) and reports its cost. For
 * the retry demo it behaves like a provider having an outage: the first request for each trip
 * fails; the next one succeeds. Retrying the run then reuses the paid steps before it.
 */
import { TaskState } from '@a2a-js/sdk';
import type { AgentExecutor } from '@a2a-js/sdk/server';
import { agentMessage, dataPart, publishState, readUserMessage, startAgent, startTask, textPart } from './a2a-kit.ts';

export function startItineraryWriter(port?: number) {
  const seen = new Set<string>();
  const executor: AgentExecutor = {
    cancelTask: async () => {},
    execute: async (rc, bus) => {
      const { data } = readUserMessage(rc.userMessage);
      const ids = startTask(rc, bus);
      const hotel = (data.hotel ?? {}) as { name?: string; price?: number };
      const city = String(data.city ?? 'the city');
      const key = `${city}:${hotel.name ?? ''}`;
      if (!seen.has(key)) {
        seen.add(key);
        publishState(
          bus,
          ids,
          TaskState.TASK_STATE_FAILED,
          agentMessage(ids, [
            textPart('the writing model is overloaded right now (demo: the first request for a trip fails; retry the run)'),
          ]),
        );
        bus.finished();
        return;
      }
      const itinerary = [
        `Day 1: check in at ${hotel.name ?? 'the hotel'} and walk the old town of ${city}`,
        'Day 2: museums in the morning, the river at sunset',
        'Day 3: markets, lunch, departure',
      ];
      const usage = { inputTokens: 900, outputTokens: 400 };
      const costUsd = Math.round((usage.inputTokens * 3e-6 + usage.outputTokens * 15e-6) * 1e6) / 1e6;
      publishState(
        bus,
        ids,
        TaskState.TASK_STATE_COMPLETED,
        agentMessage(ids, [textPart(itinerary.join('\n')), dataPart({ itinerary })], { costUsd, usage }),
      );
      bus.finished();
    },
  };
  return startAgent(
    {
      name: 'itinerary-writer',
      description: 'Writes a three-day itinerary; its first request for each trip fails (a demo outage), the next succeeds',
      streaming: true,
      skills: [
        {
          id: 'write',
          name: 'Write an itinerary',
          description: 'A day-by-day plan for a hotel stay',
          tags: ['itinerary', 'demo'],
        },
      ],
      executor,
    },
    { port },
  );
}
