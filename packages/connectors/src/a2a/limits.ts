/**
 * The A2A client's limits, each set by an option, else an environment variable, else a default:
 * - `cardTimeoutMs` (`TRELLIS_A2A_CARD_TIMEOUT_MS`, 10,000): fetching one agent card (each URL
 *   tried) at registration, refresh and for `{ url }` agents;
 * - `cancelGraceMs` (`TRELLIS_A2A_CANCEL_GRACE_MS`, 2,000): how long a cancelled blocking
 *   `message/send` is kept open to learn the task id (so `tasks/cancel` can name it) before the
 *   request is aborted;
 * - `cancelTimeoutMs` (`TRELLIS_A2A_CANCEL_TIMEOUT_MS`, 5,000): how long a `tasks/cancel` sent on
 *   cancellation may take.
 */
import { readLimits } from '../limits.ts';

export interface A2ALimits {
  cardTimeoutMs: number;
  cancelGraceMs: number;
  cancelTimeoutMs: number;
}

export const DEFAULT_A2A_LIMITS: Readonly<A2ALimits> = Object.freeze({
  cardTimeoutMs: 10_000,
  cancelGraceMs: 2_000,
  cancelTimeoutMs: 5_000,
});

export const A2A_LIMITS_ENV: Readonly<Record<keyof A2ALimits, string>> = Object.freeze({
  cardTimeoutMs: 'TRELLIS_A2A_CARD_TIMEOUT_MS',
  cancelGraceMs: 'TRELLIS_A2A_CANCEL_GRACE_MS',
  cancelTimeoutMs: 'TRELLIS_A2A_CANCEL_TIMEOUT_MS',
});

const CEILINGS: Record<keyof A2ALimits, number> = {
  cardTimeoutMs: 600_000,
  cancelGraceMs: 600_000,
  cancelTimeoutMs: 600_000,
};

/** Defaults, overridden by the environment, then by `overrides`; a bad value throws naming its variable. */
export function a2aLimits(overrides: Partial<A2ALimits> = {}, env: Record<string, string | undefined> = process.env): A2ALimits {
  return readLimits<A2ALimits>({ defaults: DEFAULT_A2A_LIMITS, env: A2A_LIMITS_ENV, ceilings: CEILINGS }, overrides, env);
}
