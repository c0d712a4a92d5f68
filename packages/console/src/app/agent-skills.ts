/**
 * What an agent's skill takes and gives, read from its A2A agent card: description, tags,
 * example prompts and the input/output media types (the skill's own, else the agent's
 * defaults). Also the starting definitions of "new workflow with this skill/tool".
 */
import type { WorkflowDefinition } from '@trellis/core';
import type { Agent, AgentSkill, ToolInfo } from '../api/types.ts';
import { schemaProperties } from '../editor/binding-values.ts';

export interface SkillDetail {
  id: string;
  name: string;
  description: string;
  tags: string[];
  examples: string[];
  inputModes: string[];
  outputModes: string[];
  inputSchema?: Record<string, unknown>;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function skillDetails(agent: Agent, skill: AgentSkill): SkillDetail {
  const card = agent.card ?? {};
  const cardSkills = Array.isArray(card.skills) ? (card.skills as Record<string, unknown>[]) : [];
  const raw = cardSkills.find((s) => s && s.id === skill.id) ?? {};
  const own = (k: string) => strings(raw[k]);
  const detail: SkillDetail = {
    id: skill.id,
    name: skill.name ?? (typeof raw.name === 'string' ? raw.name : skill.id),
    description: skill.description ?? (typeof raw.description === 'string' ? raw.description : ''),
    tags: skill.tags ?? own('tags'),
    examples: own('examples'),
    inputModes: own('inputModes').length > 0 ? own('inputModes') : strings(card.defaultInputModes),
    outputModes: own('outputModes').length > 0 ? own('outputModes') : strings(card.defaultOutputModes),
  };
  if (skill.inputSchema) detail.inputSchema = skill.inputSchema;
  return detail;
}

/** The agent's description: the registry's, else the card's. */
export function agentDescription(agent: Agent): string {
  if (agent.description) return agent.description;
  const d = agent.card?.description;
  return typeof d === 'string' ? d : '';
}

/** A one-node workflow calling `skill` of `agent`, its message bound to the run input. */
export function workflowWithSkill(agent: Agent, skill: AgentSkill): WorkflowDefinition {
  const id = nodeIdFrom(skill.id);
  return {
    name: `${agent.name} ${skill.name ?? skill.id}`.slice(0, 100),
    inputSchema: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] },
    nodes: [{ id, type: 'agent_call', agent: agent.name, skill: skill.id, message: '{{ $context.message }}' }],
    edges: [],
  } as unknown as WorkflowDefinition;
}

/**
 * A one-node workflow calling `tool`: each property of its input schema becomes a run input
 * field (same name and schema) bound to the tool's argument.
 */
export function workflowWithTool(tool: ToolInfo): WorkflowDefinition {
  const fields = schemaProperties(tool.inputSchema);
  const props = (tool.inputSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
  const input: Record<string, string> = {};
  for (const f of fields) input[f.name] = `$context.${f.name}`;
  const required = fields.filter((f) => f.required).map((f) => f.name);
  return {
    name: tool.name.replace('/', ' ').slice(0, 100),
    inputSchema: { type: 'object', properties: props, ...(required.length > 0 ? { required } : {}) },
    nodes: [{ id: nodeIdFrom(tool.name.split('/').at(-1) ?? 'tool'), type: 'tool_call', tool: tool.name, input }],
    edges: [],
  } as unknown as WorkflowDefinition;
}

function nodeIdFrom(s: string): string {
  const id = s.replace(/[^A-Za-z0-9_]/g, '_').replace(/^([^A-Za-z_])/, '_$1');
  return id || 'call';
}

const SEED_KEY = 'trellis.newWorkflowSeed';

/** Hands a starting definition to the builder's next "new workflow" (same tab, read once). */
export function seedNewWorkflow(storage: Storage, definition: WorkflowDefinition): void {
  storage.setItem(SEED_KEY, JSON.stringify(definition));
}

export function takeNewWorkflowSeed(storage: Storage): unknown {
  const text = storage.getItem(SEED_KEY);
  if (text === null) return undefined;
  storage.removeItem(SEED_KEY);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
