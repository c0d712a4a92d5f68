/**
 * Which claim a worker's round makes: a "new run" wake-up (empty payload) claims queued runs
 * only; the first round, the periodic round and every other wake-up claim everything claimable.
 * A round does not wait for the runs it claimed to load; runs loading count against `maxRuns`.
 * A process that executes nothing wakes the workers once per burst of new runs.
 */
import type { RunLeaseStore } from '@trellis/store';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.ts';
import type { EngineLogger } from '../src/runner/engine.ts';
import { type LeasedEngineHooks, Leasing, WAKE_CHANNEL } from '../src/runner/leasing.ts';

function fakeStore(queued: string[] = []) {
  const calls: string[] = [];
  let handler: ((channel: string, payload: string) => void) | undefined;
  const store = {
    claimRuns: async () => {
      calls.push('all');
      return [];
    },
    claimQueuedRuns: async (_w: string, _l: number, limit: number) => {
      calls.push(`queued ${limit}`);
      return queued.splice(0, limit);
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
const logger: EngineLogger = { info: () => {}, warn: () => {}, error: () => {} };
const hooksWith = (over: Partial<LeasedEngineHooks> = {}): LeasedEngineHooks => ({
  hotIds: () => [],
  isHot: () => false,
  heldIds: () => [],
  holds: () => false,
  adopt: async () => {},
  drop: () => {},
  cancelRequested: () => {},
  woken: () => {},
  remoteEvents: () => {},
  missedEvents: () => {},
  ...over,
});

describe('claim rounds', () => {
  it('a new-run wake-up claims queued runs only; a decision wake-up and the periodic round claim everything', async () => {
    const { store, calls, notify } = fakeStore();
    const clock = new ManualClock();
    const leasing = new Leasing({ store, claimIntervalMs: 1000 }, 'w1', clock, hooksWith(), logger);
    await leasing.start();
    expect(calls).toEqual(['all']);
    notify(WAKE_CHANNEL, '');
    await settle();
    expect(calls).toEqual(['all', 'queued 20']);
    notify(WAKE_CHANNEL, 'run-decided');
    await settle();
    expect(calls).toEqual(['all', 'queued 20', 'all']);
    await clock.advance(1000);
    await settle();
    expect(calls).toEqual(['all', 'queued 20', 'all', 'all']);
    await leasing.stop();
  });
});

describe('claims while claimed runs load', () => {
  it('a wake-up claims at once, without waiting for the runs of the last round to load; loading runs count against maxRuns', async () => {
    const queued = ['r1', 'r2'];
    const { store, calls, notify } = fakeStore(queued);
    const loads = new Map<string, () => void>();
    const adopted: string[] = [];
    const hooks = hooksWith({
      adopt: (id) =>
        new Promise<void>((resolve) => {
          adopted.push(id);
          loads.set(id, resolve);
        }),
    });
    const leasing = new Leasing({ store, claimBatch: 1, maxRuns: 2 }, 'w1', new ManualClock(), hooks, logger);
    await leasing.start();
    notify(WAKE_CHANNEL, '');
    await settle();
    // r1 is still loading: the next round did not wait for it (a full batch claims again).
    expect(adopted).toEqual(['r1', 'r2']);
    expect(calls).toEqual(['all', 'queued 1', 'queued 1']);
    // Two runs loading, maxRuns 2: no room, no claim.
    queued.push('r3');
    notify(WAKE_CHANNEL, '');
    await settle();
    expect(calls).toEqual(['all', 'queued 1', 'queued 1']);
    // Stopping waits for the loads in flight.
    let stopped = false;
    const stopping = leasing.stop().then(() => {
      stopped = true;
    });
    await settle();
    expect(stopped).toBe(false);
    for (const done of loads.values()) done();
    await stopping;
    expect(stopped).toBe(true);
  });
});

describe('new-run wake-ups from a process that executes nothing', () => {
  it('one wake-up per burst: calls while one is being sent share the next, which is sent after it', async () => {
    const sent: { resolve: () => void }[] = [];
    const store = {
      wake: (channel: string, payload: string) => {
        expect([channel, payload]).toEqual([WAKE_CHANNEL, '']);
        return new Promise<void>((resolve) => {
          sent.push({ resolve });
        });
      },
    } as unknown as RunLeaseStore;
    const leasing = new Leasing({ store, execute: false }, 'api', new ManualClock(), hooksWith(), logger);
    const resolved: string[] = [];
    const call = (name: string) => leasing.wakeForNewRuns().then(() => resolved.push(name));
    const a = call('a');
    expect(sent).toHaveLength(1);
    // b, c and d come while the first is in flight: it may have left before their runs
    // committed, so they wait for one more, shared by all three.
    const b = call('b');
    const c = call('c');
    const d = call('d');
    await settle();
    expect(sent).toHaveLength(1);
    sent[0]!.resolve();
    await a;
    await settle();
    expect(resolved).toEqual(['a']);
    expect(sent).toHaveLength(2);
    // e comes while the second is in flight: a third.
    const e = call('e');
    sent[1]!.resolve();
    await Promise.all([b, c, d]);
    expect(resolved).toEqual(['a', 'b', 'c', 'd']);
    await settle();
    expect(sent).toHaveLength(3);
    sent[2]!.resolve();
    await e;
    expect(sent).toHaveLength(3);
  });

  it('a failed wake-up fails the calls that waited for it, and the next call sends again', async () => {
    let n = 0;
    const store = {
      wake: async () => {
        n++;
        if (n === 1) throw new Error('down');
      },
    } as unknown as RunLeaseStore;
    const leasing = new Leasing({ store, execute: false }, 'api', new ManualClock(), hooksWith(), logger);
    await expect(leasing.wakeForNewRuns()).rejects.toThrow('down');
    await leasing.wakeForNewRuns();
    expect(n).toBe(2);
  });
});

describe('heartbeats', () => {
  it('renew only runs held and not finished; a lease found gone for a run that finished meanwhile is no loss', async () => {
    const renewed: string[][] = [];
    const { store } = fakeStore();
    (store as { renewLeases: RunLeaseStore['renewLeases'] }).renewLeases = async (_w, ids) => {
      renewed.push([...ids]);
      // The commit that finished 'done-meanwhile' gave its lease back before the renewal ran.
      return ['done-meanwhile', 'stolen'];
    };
    const held = new Set(['stolen', 'done-meanwhile', 'kept']);
    const dropped: string[] = [];
    const warned: unknown[] = [];
    const hooks = hooksWith({
      // 'finished' is hot but finished in memory: the engine leaves it out.
      hotIds: () => ['stolen', 'done-meanwhile', 'kept', 'finished'],
      heldIds: () => ['stolen', 'done-meanwhile', 'kept'],
      holds: (id) => held.has(id),
      drop: (id) => {
        dropped.push(id);
      },
    });
    const clock = new ManualClock();
    const leasing = new Leasing({ store, leaseMs: 300, claimIntervalMs: 60_000 }, 'w1', clock, hooks, {
      ...logger,
      warn: (msg, data) => warned.push([msg, data]),
    });
    await leasing.start();
    held.delete('done-meanwhile');
    await clock.advance(100);
    await settle();
    expect(renewed).toEqual([['stolen', 'done-meanwhile', 'kept']]);
    expect(dropped).toEqual(['stolen']);
    expect(warned).toEqual([['lease lost; another worker owns the run now', { runId: 'stolen' }]]);
    await leasing.stop();
  });
});
