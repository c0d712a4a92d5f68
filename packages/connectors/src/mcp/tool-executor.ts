/**
 * The `tool_call` executor for MCP tools (`<server>/<tool>`). The resolved input is checked
 * against the tool's input schema before the call (a bad argument is the workflow's fault, not
 * worth a retry); a result with `isError` fails the node; `structuredContent`, else the parsed
 * text content, is the output. Cancellation aborts the request, which the SDK turns into a
 * `notifications/cancelled` to the server.
 */
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type { ExecutionResult, Executor, ExecutorContext, NodeOf } from '@trellis/core';
import { TrellisError } from '@trellis/core';
import { traceHeadersFor } from '@trellis/runtime';
import { schemaProblem } from './schema.ts';
import type { ToolServerRegistry } from './tool-server-registry.ts';

export interface McpToolExecutorDeps {
  tools: ToolServerRegistry;
  /** Per-call timeout when the node sets none (default 60 s); the runner's own timeout also aborts. */
  timeoutMs?: number;
}

interface ContentBlock {
  type: string;
  text?: string;
}

export function createMcpToolExecutor(deps: McpToolExecutorDeps): Executor {
  return {
    async execute(input: unknown, ctx: ExecutorContext): Promise<ExecutionResult> {
      const node = ctx.node as NodeOf<'tool_call'>;
      const found = await deps.tools.findTool(node.tool);
      if (!found) {
        throw new TrellisError(
          'TOOL_NOT_FOUND',
          `no tool "${node.tool}" is registered where this run executes; register its MCP server first (tools are named <server>/<tool>)`,
          {
            category: 'user',
          },
        );
      }
      const args = input ?? {};
      if (typeof args !== 'object' || Array.isArray(args)) {
        throw new TrellisError(
          'INPUT_INVALID',
          `${node.tool} takes an object of arguments, got ${Array.isArray(args) ? 'an array' : typeof args}`,
          {
            category: 'user',
          },
        );
      }
      const problem = schemaProblem(found.tool.inputSchema, args);
      if (problem) {
        throw new TrellisError('INPUT_INVALID', `input for ${node.tool} does not match its schema: ${problem}`, {
          category: 'user',
          details: { inputSchema: found.tool.inputSchema },
        });
      }
      let result: { isError?: boolean; content?: unknown; structuredContent?: unknown };
      try {
        result = (await deps.tools.withClient(
          found.server,
          (client) =>
            client.callTool(
              {
                name: found.tool.name,
                arguments: args as Record<string, unknown>,
                // Traced runs: the attempt's W3C trace context, where MCP carries it (`_meta.traceparent`).
                _meta: { 'trellis/idempotencyKey': ctx.idempotencyKey, ...traceHeadersFor(ctx) },
              },
              undefined,
              { signal: ctx.signal, timeout: node.timeoutMs ?? deps.timeoutMs ?? 60_000 },
            ),
          // The run's own session (unless the server is registered as shared): state a tool keeps
          // stays with this run.
          // A stdio start waits for a process slot at most as long as the call itself may take.
          { runId: ctx.runId, signal: ctx.signal, waitMs: node.timeoutMs ?? deps.timeoutMs ?? 60_000 },
        )) as typeof result;
      } catch (err) {
        throw toolError(err, node.tool, ctx.signal);
      }
      const content = (Array.isArray(result.content) ? result.content : []) as ContentBlock[];
      const text = content
        .filter((c) => c.type === 'text' && typeof c.text === 'string')
        .map((c) => c.text)
        .join('\n');
      if (result.isError) {
        throw new TrellisError('TOOL_ERROR', `${node.tool} reported an error${text ? `: ${text.slice(0, 500)}` : ''}`, {
          category: 'remote',
        });
      }
      return { kind: 'succeeded', output: result.structuredContent ?? parseText(text) };
    },
  };
}

function parseText(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { text };
  }
}

function toolError(err: unknown, tool: string, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason ?? err;
  if (err instanceof TrellisError) return err;
  if (err instanceof McpError) {
    // -32001 is the SDK's request timeout; other JSON-RPC errors are the server refusing the call.
    if (err.code === -32001)
      return TrellisError.retryable('TIMEOUT', `${tool} timed out: ${err.message}`, { category: 'remote' });
    return new TrellisError('TOOL_ERROR', `${tool}: ${err.message}`, { category: 'remote' });
  }
  const msg = err instanceof Error ? err.message : String(err);
  return TrellisError.retryable('NETWORK_ERROR', `${tool}: ${msg}`, { category: 'remote', cause: err });
}
