import { describe, expect, it } from 'vitest';
import { AttemptAbort } from '../src/runner/attempt-abort.ts';

describe('AttemptAbort (the signal is made when first read)', () => {
  it('aborts a signal read before the abort, and settles the attempt with the reason', async () => {
    const a = new AttemptAbort();
    const signal = a.signal;
    expect(a.signal).toBe(signal);
    let heard: unknown;
    signal.addEventListener('abort', () => {
      heard = signal.reason;
    });
    const reason = new Error('cancelled');
    a.abort(reason);
    expect(signal.aborted).toBe(true);
    expect(heard).toBe(reason);
    await expect(a.aborted).rejects.toBe(reason);
  });

  it('a signal first read after the abort is aborted already, with the first reason', async () => {
    const a = new AttemptAbort();
    const first = new Error('timed out');
    a.abort(first);
    a.abort(new Error('the run has finished'));
    expect(a.signal.aborted).toBe(true);
    expect(a.signal.reason).toBe(first);
    expect(() => a.signal.throwIfAborted()).toThrow('timed out');
    await expect(a.aborted).rejects.toBe(first);
  });

  it('an attempt never aborted never settles through `aborted` and makes no signal unless read', async () => {
    const a = new AttemptAbort();
    const won = await Promise.race([a.aborted, Promise.resolve('executor')]);
    expect(won).toBe('executor');
    expect((a as unknown as { controller: unknown }).controller).toBeUndefined();
  });
});
