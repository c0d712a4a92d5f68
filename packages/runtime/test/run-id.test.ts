/**
 * Run ids: UUIDv7 in RFC 9562's layout, unique, and sorting in the order they were made — within
 * one millisecond, across the random pool's refills, and when the clock steps back.
 */
import { describe, expect, it } from 'vitest';
import { newRunId } from '../src/runner/run-id.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('run ids', () => {
  it('are UUIDv7 with the creation time in the first 48 bits', () => {
    const at = Date.parse('2026-05-04T08:01:00.123Z');
    const id = newRunId(at);
    expect(id).toMatch(UUID_V7);
    expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at);
  });

  it('sort in the order they were made: same millisecond, pool refills, a clock that steps back', () => {
    const at = Date.parse('2026-06-01T00:00:00Z');
    const ids: string[] = [];
    // 10,000 ids in one millisecond (40 refills of the random pool), then a clock that goes back.
    for (let i = 0; i < 10_000; i++) ids.push(newRunId(at));
    for (let i = 0; i < 100; i++) ids.push(newRunId(at - 5_000));
    for (let i = 0; i < 100; i++) ids.push(newRunId(at + 1 + (i >> 4)));
    for (const id of ids) expect(id).toMatch(UUID_V7);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('differ in their random bits from one millisecond to the next', () => {
    const tails = new Set<string>();
    for (let i = 0; i < 1000; i++) tails.add(newRunId(Date.parse('2027-01-01T00:00:00Z') + i).slice(14));
    expect(tails.size).toBe(1000);
  });
});
