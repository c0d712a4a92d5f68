/**
 * Run ids: UUIDv7 (RFC 9562), time-ordered, so the rows a run adds to the runs, node and event
 * indexes land at the right edge of each B-tree instead of on random pages — a burst of thousands
 * of run starts (a schedule tick, a map) writes a fraction of the pages a random UUID would.
 *
 * Monotonic within the process (RFC 9562 §6.2, method 1): ids made in the same millisecond, or
 * after the clock stepped back, carry a 32-bit counter (spread over rand_a and the top of rand_b)
 * that starts at a random value each new millisecond and counts up, so every id sorts after the
 * one before. Random bits come from the CSPRNG in 4 KB draws (one native call per 256 ids instead
 * of one per id).
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let poolAt = POOL_BYTES;
let lastMs = -1;
let seq = 0;

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The offset of 16 fresh random bytes in the pool (refilled when used up). */
function random16(): number {
  if (poolAt >= POOL_BYTES) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const at = poolAt;
  poolAt += 16;
  return at;
}

export function newRunId(now: number = Date.now()): string {
  const r = random16();
  if (now > lastMs) {
    lastMs = now;
    // 31 random bits: room to count up within the millisecond before the counter wraps.
    seq = ((pool[r]! & 0x7f) << 24) | (pool[r + 1]! << 16) | (pool[r + 2]! << 8) | pool[r + 3]!;
  } else if (seq === 0xffffffff) {
    // The counter ran out within one millisecond: borrow the next millisecond.
    lastMs++;
    seq = 0;
  } else seq++;
  const ms = lastMs;
  return (
    HEX[(ms / 0x10000000000) & 0xff]! +
    HEX[(ms / 0x100000000) & 0xff]! +
    HEX[(ms / 0x1000000) & 0xff]! +
    HEX[(ms / 0x10000) & 0xff]! +
    '-' +
    HEX[(ms / 0x100) & 0xff]! +
    HEX[ms & 0xff]! +
    '-' +
    HEX[0x70 | ((seq >>> 28) & 0x0f)]! +
    HEX[(seq >>> 20) & 0xff]! +
    '-' +
    HEX[0x80 | ((seq >>> 14) & 0x3f)]! +
    HEX[(seq >>> 6) & 0xff]! +
    '-' +
    HEX[((seq << 2) & 0xfc) | (pool[r + 4]! & 0x03)]! +
    HEX[pool[r + 5]!]! +
    HEX[pool[r + 6]!]! +
    HEX[pool[r + 7]!]! +
    HEX[pool[r + 8]!]! +
    HEX[pool[r + 9]!]!
  );
}
