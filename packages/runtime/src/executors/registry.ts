/**
 * Maps a node to its executor: built-ins by type, `tool_call` by tool name (built-in tools such
 * as `http.request` first, then MCP tools through `toolCall`), `agent_call` to the A2A executor.
 */
import type { Executor, ExecutorResolver, NodeDefinition } from '@trellis/core';
import { conditionExecutor, humanGateExecutor, passthroughExecutor, transformExecutor } from './builtins.ts';

export interface ExecutorRegistryOptions {
  /** Tools by exact name (built-ins like `http.request`, or tools a host registers). */
  tools?: Record<string, Executor>;
  /** Resolves `<server>/<tool>` names (MCP). */
  toolCall?: (tool: string) => Executor | undefined;
  /** The `agent_call` executor (A2A). */
  agentCall?: Executor;
}

export function createExecutorResolver(options: ExecutorRegistryOptions = {}): ExecutorResolver {
  const tools = new Map(Object.entries(options.tools ?? {}));
  return {
    resolve(node: NodeDefinition): Executor | undefined {
      switch (node.type) {
        case 'transform':
          return transformExecutor;
        case 'condition':
          return conditionExecutor;
        case 'parallel':
        case 'join':
          return passthroughExecutor;
        case 'human_gate':
          return humanGateExecutor;
        case 'tool_call':
          return tools.get(node.tool) ?? options.toolCall?.(node.tool);
        case 'agent_call':
          return options.agentCall;
        case 'map': // executed by the engine itself (items)
        case 'workflow': // executed by the engine itself (child runs)
          return undefined;
        default: {
          const never: never = node;
          return never;
        }
      }
    },
  };
}
