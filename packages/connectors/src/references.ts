/**
 * Save-time checks of what a workflow names outside itself: registered agents and their
 * skills, MCP tools and the literal arguments given to them. The server runs this when a
 * workflow is saved; nothing here connects to a server or spawns a process (only the stored
 * agent cards and tool listings are read).
 */
import type { ValidationError, WorkflowDefinition } from '@trellis/core';
import type { AgentRegistry } from './a2a/agent-registry.ts';
import { schemaProblem } from './mcp/schema.ts';
import type { ToolServerRegistry } from './mcp/tool-server-registry.ts';

export interface ConnectorRegistries {
  agents: Pick<AgentRegistry, 'get'>;
  tools: Pick<ToolServerRegistry, 'findTool'>;
}

/** True when a value holds a binding anywhere (`$node.path`, `$context…` or `{{ expr }}`). */
function hasBinding(v: unknown): boolean {
  if (typeof v === 'string') return v.startsWith('$') || v.includes('{{');
  if (Array.isArray(v)) return v.some(hasBinding);
  if (v && typeof v === 'object') return Object.values(v).some(hasBinding);
  return false;
}

export async function checkConnectorReferences(
  definition: WorkflowDefinition,
  registries: ConnectorRegistries,
): Promise<ValidationError[]> {
  const errors: ValidationError[] = [];
  for (const [i, node] of definition.nodes.entries()) {
    if (node.type === 'agent_call' && typeof node.agent === 'string') {
      const agent = await registries.agents.get(node.agent);
      if (!agent) {
        errors.push({
          code: 'AGENT_NOT_FOUND',
          message: `node ${node.id}: no agent "${node.agent}" is registered; register it by its agent-card URL, or give its address as { "url": … }`,
          nodes: [node.id],
          path: `/nodes/${i}/agent`,
        });
      } else if (node.skill !== undefined && !agent.skills.some((s) => s.id === node.skill)) {
        const known = agent.skills.map((s) => s.id).join(', ') || 'none';
        errors.push({
          code: 'UNKNOWN_AGENT_SKILL',
          message: `node ${node.id}: agent "${agent.name}" has no skill "${node.skill}" (its skills: ${known})`,
          nodes: [node.id],
          path: `/nodes/${i}/skill`,
        });
      }
    }
    if (node.type === 'tool_call' && node.tool.includes('/')) {
      const found = await registries.tools.findTool(node.tool);
      if (!found) {
        errors.push({
          code: 'TOOL_NOT_FOUND',
          message: `node ${node.id}: no tool "${node.tool}" is registered; register its MCP server first (tools are named <server>/<tool>)`,
          nodes: [node.id],
          path: `/nodes/${i}/tool`,
        });
        continue;
      }
      const input = node.input ?? {};
      if (typeof input !== 'object' || Array.isArray(input) || input === null) {
        if (!hasBinding(input)) {
          errors.push({
            code: 'TOOL_INPUT_INVALID',
            message: `node ${node.id}: ${node.tool} takes an object of arguments`,
            nodes: [node.id],
            path: `/nodes/${i}/input`,
          });
        }
        continue;
      }
      // Only the literal arguments can be checked now; bound ones are known at run time.
      const literals: Record<string, unknown> = {};
      const bound = new Set<string>();
      for (const [k, v] of Object.entries(input)) {
        if (hasBinding(v)) bound.add(k);
        else literals[k] = v;
      }
      const schema = found.tool.inputSchema;
      const required = Array.isArray(schema.required) ? (schema.required as string[]).filter((k) => !bound.has(k)) : undefined;
      const problem = schemaProblem({ ...schema, ...(required ? { required } : {}) }, literals);
      if (problem) {
        errors.push({
          code: 'TOOL_INPUT_INVALID',
          message: `node ${node.id}: arguments for ${node.tool} do not match its input schema: ${problem}`,
          nodes: [node.id],
          path: `/nodes/${i}/input`,
        });
      }
    }
  }
  return errors;
}
