/**
 * The "new events" notification of a commit: every run of the batch with its newest seq, joined
 * into as few notifications as PostgreSQL's payload limit allows.
 */
import { describe, expect, it } from 'vitest';
import { EVENTS_CHANNEL, eventsNotifications } from '../src/runner/leasing.ts';

describe('events notifications', () => {
  it('joins the runs of a commit into one notification', () => {
    const got = eventsNotifications(
      new Map([
        ['r1', 4],
        ['r2', 17],
      ]),
    );
    expect(got).toEqual([{ channel: EVENTS_CHANNEL, payload: 'r1:4,r2:17' }]);
    expect(eventsNotifications(new Map())).toEqual([]);
  });

  it('splits a commit of many runs below the 8,000-byte payload limit, losing none', () => {
    const runs = new Map(
      Array.from({ length: 1000 }, (_, i) => [`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, i + 1]),
    );
    const got = eventsNotifications(runs);
    expect(got.length).toBeGreaterThan(1);
    for (const n of got) expect(Buffer.byteLength(n.payload)).toBeLessThan(8000);
    const parsed = got.flatMap((n) =>
      n.payload.split(',').map((p) => [p.slice(0, p.lastIndexOf(':')), Number(p.slice(p.lastIndexOf(':') + 1))]),
    );
    expect(new Map(parsed as [string, number][])).toEqual(runs);
  });
});
