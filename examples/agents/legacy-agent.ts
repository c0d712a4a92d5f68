/** A v0.3-protocol A2A agent (served through the SDK's compat layer): canned reviews. */
import { TaskState } from '@a2a-js/sdk';
import type { AgentExecutor } from '@a2a-js/sdk/server';
import { agentMessage, dataPart, publishState, readUserMessage, startAgent, startTask, textPart } from './a2a-kit.ts';

const executor: AgentExecutor = {
  cancelTask: async () => {},
  execute: async (rc, bus) => {
    const { data } = readUserMessage(rc.userMessage);
    const ids = startTask(rc, bus);
    const name = String((data.hotel as { name?: string } | undefined)?.name ?? data.hotel ?? 'this hotel');
    const score = 3 + (name.length % 3);
    publishState(
      bus,
      ids,
      TaskState.TASK_STATE_COMPLETED,
      agentMessage(ids, [
        textPart(`${name}: ${score}/5 from 128 guests`),
        dataPart({ reviews: { hotel: name, score, count: 128 } }),
      ]),
    );
    bus.finished();
  },
};

export function startLegacyReviewsAgent(port?: number) {
  return startAgent(
    {
      name: 'reviews-legacy',
      description: 'Guest reviews for a hotel (an older agent speaking A2A 0.3)',
      streaming: false,
      protocol: '0.3',
      skills: [{ id: 'reviews', name: 'Reviews', description: 'Review score for a hotel', tags: ['travel', 'reviews'] }],
      executor,
    },
    { port },
  );
}
