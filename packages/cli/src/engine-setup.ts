/**
 * Builds the executors a local engine needs: the built-in `http.request` tool behind the
 * outbound guard. `trellis run` allows loopback (SPEC §3) on top of TRELLIS_ALLOW_HOSTS.
 */
import type { ExecutorResolver } from '@trellis/core';
import {
  allowHostsFromEnv,
  createExecutorResolver,
  createHttpRequestExecutor,
  createOutboundGuard,
  LOOPBACK_ALLOW_HOSTS,
} from '@trellis/runtime';

export function localExecutors(options: { allowLoopback: boolean }): ExecutorResolver {
  const allowHosts = [...allowHostsFromEnv(), ...(options.allowLoopback ? LOOPBACK_ALLOW_HOSTS : [])];
  const guard = createOutboundGuard({ allowHosts });
  return createExecutorResolver({ tools: { 'http.request': createHttpRequestExecutor({ guard }) } });
}
