/**
 * The MCP client's limits, each set by an option, else an environment variable, else a default:
 * - `callTimeoutMs` (`TRELLIS_MCP_CALL_TIMEOUT_MS`, 60,000): one tool call's wait when the node
 *   sets no `timeoutMs` (the node's own timeout wins; the run's deadline still applies);
 * - `stderrTailBytes` (`TRELLIS_MCP_STDERR_BYTES`, 8 KiB): stderr kept per stdio server;
 * - `stdioMaxMessageBytes` (`TRELLIS_MCP_STDIO_MAX_MESSAGE_BYTES`, 10 MiB): largest message read
 *   from a stdio server; a larger reply fails that call alone with OUTPUT_TOO_LARGE;
 * - `sessionIdleMs` (`TRELLIS_MCP_SESSION_IDLE_MS`, 5 minutes): a run's MCP session is closed
 *   once unused that long (it is closed anyway when the run ends).
 */
import { DEFAULT_STDERR_TAIL_BYTES } from './stderr-tail.ts';
import { DEFAULT_STDIO_MAX_MESSAGE_BYTES } from './stdio-transport.ts';

export interface McpLimits {
  callTimeoutMs: number;
  stderrTailBytes: number;
  stdioMaxMessageBytes: number;
  sessionIdleMs: number;
}

export const DEFAULT_MCP_LIMITS: Readonly<McpLimits> = Object.freeze({
  callTimeoutMs: 60_000,
  stderrTailBytes: DEFAULT_STDERR_TAIL_BYTES,
  stdioMaxMessageBytes: DEFAULT_STDIO_MAX_MESSAGE_BYTES,
  sessionIdleMs: 5 * 60_000,
});

export const MCP_LIMITS_ENV: Readonly<Record<keyof McpLimits, string>> = Object.freeze({
  callTimeoutMs: 'TRELLIS_MCP_CALL_TIMEOUT_MS',
  stderrTailBytes: 'TRELLIS_MCP_STDERR_BYTES',
  stdioMaxMessageBytes: 'TRELLIS_MCP_STDIO_MAX_MESSAGE_BYTES',
  sessionIdleMs: 'TRELLIS_MCP_SESSION_IDLE_MS',
});

const CEILINGS: Record<keyof McpLimits, number> = {
  callTimeoutMs: 86_400_000,
  stderrTailBytes: 1024 * 1024,
  stdioMaxMessageBytes: 1024 * 1024 * 1024,
  sessionIdleMs: 86_400_000,
};

/** Defaults, overridden by the environment, then by `overrides`; a bad value throws naming its variable. */
export function mcpLimits(overrides: Partial<McpLimits> = {}, env: Record<string, string | undefined> = process.env): McpLimits {
  const out = { ...DEFAULT_MCP_LIMITS };
  for (const key of Object.keys(MCP_LIMITS_ENV) as (keyof McpLimits)[]) {
    const name = MCP_LIMITS_ENV[key];
    const raw = env[name]?.trim();
    if (raw !== undefined && raw !== '') out[key] = check(Number(raw), name, raw, CEILINGS[key]);
    const given = overrides[key];
    if (given !== undefined) out[key] = check(given, key, String(given), CEILINGS[key]);
  }
  return out;
}

function check(n: number, name: string, raw: string, ceiling: number): number {
  if (!Number.isInteger(n) || n < 1 || n > ceiling)
    throw new Error(`${name} must be a whole number from 1 to ${ceiling}, got "${raw}"`);
  return n;
}
