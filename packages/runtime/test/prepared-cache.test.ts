import { describe, expect, it } from 'vitest';
import { PreparedCache } from '../src/internal.ts';
import { prepareWorkflow } from '../src/prepared.ts';

const prep = (key: string, nodes = 1) =>
  prepareWorkflow(key, {
    name: key,
    nodes: Array.from({ length: nodes }, (_, i) => ({ id: `n${i}`, type: 'transform', expression: '1' })),
    edges: Array.from({ length: nodes - 1 }, (_, i) => ({ from: `n${i}`, to: `n${i + 1}` })),
  });

describe('PreparedCache', () => {
  it('is bounded by nodes and evicts what was not used since it was last looked at', () => {
    const cache = new PreparedCache(3);
    for (const k of ['a', 'b', 'c']) cache.set(prep(k));
    expect(cache.get('a')?.key).toBe('a'); // a is used: it survives the next eviction
    cache.set(prep('d'));
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined(); // the oldest unused entry went
    expect(cache.get('a')?.key).toBe('a');
    expect(cache.get('c')).toBeDefined();
    expect(cache.get('d')).toBeDefined();
    // Every entry marked: one round clears the marks, then the oldest goes; the newest stays.
    cache.set(prep('e'));
    expect(cache.size).toBe(3);
    expect(cache.get('e')?.key).toBe('e');
  });

  it('keeps the newest entry however large it is', () => {
    const cache = new PreparedCache(3);
    cache.set(prep('small'));
    cache.get('small');
    cache.set(prep('big', 5));
    expect(cache.size).toBe(1);
    expect(cache.get('big')?.key).toBe('big');
  });

  it('replaces an entry saved again under its key without counting it twice', () => {
    const cache = new PreparedCache(2);
    cache.set(prep('a'));
    cache.set(prep('a'));
    cache.set(prep('b'));
    expect(cache.size).toBe(2);
    expect(cache.get('a')).toBeDefined();
  });
});
