/**
 * The "new events" notification of a commit: every run of the batch with its newest seq, joined
 * into as few notifications as PostgreSQL's payload limit allows.
 */
import { describe, expect, it, vi } from 'vitest';
import { EventsNotifier } from '../src/runner/events-notifier.ts';
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

describe('events notifier (one notification per window)', () => {
  const m = (...pairs: [string, number][]) => new Map(pairs);
  const payloads = (ns: readonly { payload: string }[]) => ns.map((n) => n.payload);

  it('the first commit carries the notification; commits inside the window are announced together after they committed', async () => {
    const sent: string[] = [];
    const notifier = new EventsNotifier(
      async (ns) => {
        sent.push(...payloads(ns));
      },
      (err) => {
        throw err;
      },
      40,
    );
    const first = notifier.take(m(['r1', 3]));
    expect(payloads(first)).toEqual(['r1:3']);
    notifier.settle(m(['r1', 3]), first, true);
    // Inside the window: carried by nobody; nothing is announced before its commit succeeded.
    const second = notifier.take(m(['r1', 5], ['r2', 1]));
    expect(second).toEqual([]);
    await new Promise((r) => setTimeout(r, 60));
    expect(sent).toEqual([]);
    notifier.settle(m(['r1', 5], ['r2', 1]), second, true);
    // No later commit: a notification of their own at the window's end.
    await vi.waitFor(() => expect(sent).toEqual(['r1:5,r2:1']));
    // A commit that failed is not announced (whether or not it would have carried the notification).
    const third = notifier.take(m(['r3', 9]));
    notifier.settle(m(['r3', 9]), third, false);
    await new Promise((r) => setTimeout(r, 80));
    expect(sent).toEqual(['r1:5,r2:1']);
  });

  it('a later commit carries what waited; if it fails, what waited is still announced; flush sends at once', async () => {
    const sent: string[] = [];
    const notifier = new EventsNotifier(
      async (ns) => {
        sent.push(...payloads(ns));
      },
      () => {},
      30,
    );
    notifier.settle(m(['r1', 1]), notifier.take(m(['r1', 1])), true);
    const inside = notifier.take(m(['r1', 2]));
    notifier.settle(m(['r1', 2]), inside, true);
    await new Promise((r) => setTimeout(r, 35));
    // The window has passed: either its timer sent r1:2 already, or the next commit carries it with its own.
    const carried = notifier.take(m(['r2', 7]));
    expect([...sent, ...payloads(carried)].join(',')).toContain('r1:2');
    if (carried.length > 0) expect(payloads(carried).join(',')).toContain('r2:7');
    notifier.settle(m(['r2', 7]), carried, false);
    // r1:2 was committed before: announced even though the carrying commit failed; r2 was not.
    await notifier.flush();
    expect(sent.join(',')).toContain('r1:2');
    expect(sent.join(',')).not.toContain('r2:7');
  });
  it('while commits flow, what waits rides the next commit: no round trip of its own; once they stop, it is sent', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const sent: string[] = [];
      const notifier = new EventsNotifier(
        async (ns) => {
          sent.push(...payloads(ns));
        },
        () => {},
        40,
      );
      const first = notifier.take(m(['r1', 1]));
      expect(payloads(first)).toEqual(['r1:1']);
      notifier.settle(m(['r1', 1]), first, true);
      vi.advanceTimersByTime(30);
      const inside = notifier.take(m(['r1', 2]));
      expect(inside).toEqual([]);
      notifier.settle(m(['r1', 2]), inside, true);
      // The window ends 10 ms after a commit began: its timer waits one window more.
      vi.advanceTimersByTime(20);
      expect(sent).toEqual([]);
      const next = notifier.take(m(['r2', 1]));
      expect(payloads(next)).toEqual(['r1:2,r2:1']);
      notifier.settle(m(['r2', 1]), next, true);
      // Commits stop after one more inside the window: what it committed is sent by the
      // timer, one window after the window's end (two after the last notification).
      vi.advanceTimersByTime(10);
      const last = notifier.take(m(['r2', 4]));
      expect(last).toEqual([]);
      notifier.settle(m(['r2', 4]), last, true);
      vi.advanceTimersByTime(69);
      expect(sent).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(sent).toEqual(['r2:4']);
    } finally {
      vi.useRealTimers();
    }
  });
});
