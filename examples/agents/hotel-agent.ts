/** A streaming A2A agent that searches a canned hotel list (skill `search`). */
import { TaskState } from '@a2a-js/sdk';
import type { AgentExecutor } from '@a2a-js/sdk/server';
import {
  agentMessage,
  dataPart,
  publishArtifact,
  publishState,
  readUserMessage,
  startAgent,
  startTask,
  textPart,
} from './a2a-kit.ts';

export const HOTELS: Record<string, { name: string; price: number; stars: number }[]> = {
  lisbon: [
    { name: 'Alfama Courtyard', price: 145, stars: 4 },
    { name: 'Tagus View Palace', price: 320, stars: 5 },
    { name: 'Bairro Hostel', price: 38, stars: 2 },
    { name: 'Chiado Boutique', price: 188, stars: 4 },
  ],
  paris: [
    { name: 'Le Petit Marais', price: 210, stars: 3 },
    { name: 'Rive Gauche Grand', price: 540, stars: 5 },
    { name: 'Montmartre Loft', price: 160, stars: 3 },
  ],
};

const executor: AgentExecutor = {
  cancelTask: async () => {},
  execute: async (rc, bus) => {
    const { text, data } = readUserMessage(rc.userMessage);
    const ids = startTask(rc, bus);
    const query = String(data.query ?? data.city ?? text).toLowerCase();
    const city = Object.keys(HOTELS).find((c) => query.includes(c));
    const hotels = city ? (HOTELS[city] ?? []) : [];
    publishArtifact(bus, ids, 'hotels', [dataPart({ hotels, city: city ?? null })]);
    const summary = city ? `${hotels.length} hotels in ${city}` : `no hotels found for "${query}"`;
    publishState(bus, ids, TaskState.TASK_STATE_COMPLETED, agentMessage(ids, [textPart(summary)], { costUsd: 0.0008 }));
    bus.finished();
  },
};

export function startHotelAgent(port?: number) {
  return startAgent(
    {
      name: 'hotel-agent',
      description: 'Finds hotels in Lisbon and Paris (canned demo data)',
      streaming: true,
      skills: [{ id: 'search', name: 'Hotel search', description: 'Hotels for a city or query', tags: ['travel', 'hotels'] }],
      executor,
    },
    { port },
  );
}
