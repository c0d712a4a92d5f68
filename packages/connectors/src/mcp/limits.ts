/**
 * The MCP client's limits, each set by an option, else an environment variable, else a default:
 * - `callTimeoutMs` (`TRELLIS_MCP_CALL_TIMEOUT_MS`, 60,000): one tool call's wait when the node
 *   sets no `timeoutMs` (the node's own timeout wins; the run's deadline still applies);
 * - `stderrTailBytes` (`TRELLIS_MCP_STDERR_BYTES`, 8 KiB): stderr kept per stdio server;
 * - `stdioMaxMessageBytes` (`TRELLIS_MCP_STDIO_MAX_MESSAGE_BYTES`, 10 MiB): largest message read
 *   from a stdio server; a larger reply fails that call alone with OUTPUT_TOO_LARGE;
 * - `sessionIdleMs` (`TRELLIS_MCP_SESSION_IDLE_MS`, 5 minutes): a run's MCP session is closed
 *   once unused that long (it is closed anyway when the run ends);
 * - `stdioMaxProcesses` (`TRELLIS_MCP_STDIO_MAX_PROCESSES`, 32): stdio server processes alive at
 *   once in this host, every server and run together; a start beyond it waits for one to end, at
 *   most the call's timeout, then fails with a retryable RATE_LIMITED.
 */
import { readLimits } from '../limits.ts';
import { DEFAULT_MAX_STDIO_PROCESSES } from './connections.ts';
import { DEFAULT_STDERR_TAIL_BYTES } from './stderr-tail.ts';
import { DEFAULT_STDIO_MAX_MESSAGE_BYTES } from './stdio-transport.ts';

export interface McpLimits {
  callTimeoutMs: number;
  stderrTailBytes: number;
  stdioMaxMessageBytes: number;
  sessionIdleMs: number;
  stdioMaxProcesses: number;
}

export const DEFAULT_MCP_LIMITS: Readonly<McpLimits> = Object.freeze({
  callTimeoutMs: 60_000,
  stderrTailBytes: DEFAULT_STDERR_TAIL_BYTES,
  stdioMaxMessageBytes: DEFAULT_STDIO_MAX_MESSAGE_BYTES,
  sessionIdleMs: 5 * 60_000,
  stdioMaxProcesses: DEFAULT_MAX_STDIO_PROCESSES,
});

export const MCP_LIMITS_ENV: Readonly<Record<keyof McpLimits, string>> = Object.freeze({
  callTimeoutMs: 'TRELLIS_MCP_CALL_TIMEOUT_MS',
  stderrTailBytes: 'TRELLIS_MCP_STDERR_BYTES',
  stdioMaxMessageBytes: 'TRELLIS_MCP_STDIO_MAX_MESSAGE_BYTES',
  sessionIdleMs: 'TRELLIS_MCP_SESSION_IDLE_MS',
  stdioMaxProcesses: 'TRELLIS_MCP_STDIO_MAX_PROCESSES',
});

const CEILINGS: Record<keyof McpLimits, number> = {
  callTimeoutMs: 86_400_000,
  stderrTailBytes: 1024 * 1024,
  stdioMaxMessageBytes: 1024 * 1024 * 1024,
  sessionIdleMs: 86_400_000,
  stdioMaxProcesses: 10_000,
};

/** Defaults, overridden by the environment, then by `overrides`; a bad value throws naming its variable. */
export function mcpLimits(overrides: Partial<McpLimits> = {}, env: Record<string, string | undefined> = process.env): McpLimits {
  return readLimits<McpLimits>({ defaults: DEFAULT_MCP_LIMITS, env: MCP_LIMITS_ENV, ceilings: CEILINGS }, overrides, env);
}
