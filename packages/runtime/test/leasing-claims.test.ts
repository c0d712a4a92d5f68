/**
 * Which claim a worker's round makes: a "new run" wake-up (empty payload) claims queued runs
 * only; the first round, the periodic round and every other wake-up claim everything claimable.
 */
import type { RunLeaseStore } from '@trellis/store';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.ts';
import type { EngineLogger } from '../src/runner/engine.ts';
import { Leasing, WAKE_CHANNEL } from '../src/runner/leasing.ts';

function fakeStore() {
  const calls: string[] = [];
  let handler: ((channel: string, payload: string) => void) | undefined;
  const store = {
    claimRuns: async () => {
      calls.push('all');
      return [];
    },
    claimQueuedRuns: async () => {
      calls.push('queued');
      return [];
    },
    renewLeases: async () => [],
    releaseRun: async () => true,
    listen: async (_channels: readonly string[], h: (channel: string, payload: string) => void) => {
      handler = h;
      return { close: async () => {} };
    },
  } as unknown as RunLeaseStore;
  return { store, calls, notify: (channel: string, payload: string) => handler?.(channel, payload) };
}

const settle = () => new Promise((r) => setTimeout(r, 10));

describe('claim rounds', () => {
  it('a new-run wake-up claims queued runs only; a decision wake-up and the periodic round claim everything', async () => {
    const { store, calls, notify } = fakeStore();
    const clock = new ManualClock();
    const hooks = {
      hotIds: () => [],
      isHot: () => false,
      adopt: async () => {},
      drop: () => {},
      cancelRequested: () => {},
      woken: () => {},
      remoteEvents: () => {},
      missedEvents: () => {},
    };
    const logger: EngineLogger = { info: () => {}, warn: () => {}, error: () => {} };
    const leasing = new Leasing({ store, claimIntervalMs: 1000 }, 'w1', clock, hooks, logger);
    await leasing.start();
    expect(calls).toEqual(['all']);
    notify(WAKE_CHANNEL, '');
    await settle();
    expect(calls).toEqual(['all', 'queued']);
    notify(WAKE_CHANNEL, 'run-decided');
    await settle();
    expect(calls).toEqual(['all', 'queued', 'all']);
    await clock.advance(1000);
    await settle();
    expect(calls).toEqual(['all', 'queued', 'all', 'all']);
    await leasing.stop();
  });
});
