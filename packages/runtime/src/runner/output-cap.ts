/**
 * The cap on one node's stored output (bytes of JSON): `EngineOptions.maxOutputBytes`, else
 * `TRELLIS_MAX_OUTPUT_BYTES`, else 1,000,000. A node whose output is larger fails with
 * `OUTPUT_TOO_LARGE`; raise the cap for workflows that move big documents, or return a reference.
 */
export const DEFAULT_MAX_OUTPUT_BYTES = 1_000_000;
export const MAX_OUTPUT_BYTES_ENV = 'TRELLIS_MAX_OUTPUT_BYTES';
/** Above this a single row becomes a liability for both stores (and for every reader of the run). */
const CEILING = 256 * 1024 * 1024;

/** Throws a plain Error naming the variable when its value is not an integer in 1..256 MiB. */
export function maxOutputBytes(option: number | undefined, env: Record<string, string | undefined> = process.env): number {
  if (option !== undefined) return option;
  const raw = env[MAX_OUTPUT_BYTES_ENV]?.trim();
  if (raw === undefined || raw === '') return DEFAULT_MAX_OUTPUT_BYTES;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > CEILING)
    throw new Error(`${MAX_OUTPUT_BYTES_ENV} must be a whole number of bytes from 1 to ${CEILING}, got "${raw}"`);
  return n;
}
