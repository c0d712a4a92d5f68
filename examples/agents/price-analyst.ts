/** A non-streaming A2A agent that analyses prices and reports its cost (SPEC §6 convention). */
import { TaskState } from '@a2a-js/sdk';
import type { AgentExecutor } from '@a2a-js/sdk/server';
import { agentMessage, dataPart, publishState, readUserMessage, startAgent, startTask, textPart } from './a2a-kit.ts';

const executor: AgentExecutor = {
  cancelTask: async () => {},
  execute: async (rc, bus) => {
    const { data } = readUserMessage(rc.userMessage);
    const ids = startTask(rc, bus);
    const hotels = (Array.isArray(data.hotels) ? data.hotels : []) as { name: string; price: number }[];
    const prices = hotels.map((h) => h.price);
    const average = prices.length ? Math.round(prices.reduce((a, b) => a + b, 0) / prices.length) : null;
    const cheapest = hotels.reduce<{ name: string; price: number } | null>((m, h) => (!m || h.price < m.price ? h : m), null);
    const analysis = { average, cheapest, recommendation: cheapest ? `Book ${cheapest.name}` : 'Nothing to recommend' };
    // Pretend we ran a model: 120 tokens per hotel in, 80 out.
    const usage = { inputTokens: 200 + 120 * hotels.length, outputTokens: 80 };
    const costUsd = Math.round((usage.inputTokens * 3e-6 + usage.outputTokens * 15e-6) * 1e6) / 1e6;
    publishState(
      bus,
      ids,
      TaskState.TASK_STATE_COMPLETED,
      agentMessage(ids, [textPart(analysis.recommendation), dataPart(analysis)], { costUsd, usage }),
    );
    bus.finished();
  },
};

/** `bearerToken`: calls must carry it (the demo registers the agent with a secret holding it). */
export function startPriceAnalyst(port?: number, options: { bearerToken?: string } = {}) {
  return startAgent(
    {
      name: 'price-analyst',
      description: 'Compares hotel prices and recommends one; reports token usage and cost',
      streaming: false,
      skills: [
        {
          id: 'analyze',
          name: 'Price analysis',
          description: 'Average, cheapest, recommendation',
          tags: ['pricing', 'analysis'],
        },
      ],
      executor,
      bearerToken: options.bearerToken,
    },
    { port },
  );
}
