/**
 * SPEC §6 in code: the message an `agent_call` sends, how a task's state maps to a node
 * outcome, what the node's output is, and where the agent's cost is read from.
 */
import { type Artifact, type Message, type Part, Role, type Task, TaskState } from '@a2a-js/sdk';
import type { CostReport } from '@trellis/core';
import { TrellisError } from '@trellis/core';

export interface OutgoingMessageSpec {
  messageId: string;
  text?: string;
  data?: unknown;
  taskId?: string;
  contextId?: string;
  metadata: Record<string, unknown>;
  /** The agent (or skill) accepts no data parts: the input's JSON goes in the text part, after the message and a blank line. */
  dataAsText?: boolean;
}

/**
 * A text part (the rendered `message` template) and a data part (the resolved `input`) — or,
 * for an agent that takes text only, a second text part with the input as JSON.
 */
export function buildMessage(spec: OutgoingMessageSpec): Message {
  const parts: Part[] = [];
  const text = spec.text !== undefined && spec.text !== '' ? spec.text : undefined;
  if (spec.dataAsText && spec.data !== undefined && spec.data !== null) {
    // A text-only agent gets ONE text part — the message, a blank line, the input as JSON — since
    // some read only their first text part (VoltAgent). An empty object says nothing: left out.
    const empty = typeof spec.data === 'object' && !Array.isArray(spec.data) && Object.keys(spec.data).length === 0;
    const value = empty ? text : [text, JSON.stringify(spec.data)].filter((t) => t !== undefined).join('\n\n');
    if (value !== undefined)
      parts.push({ content: { $case: 'text', value }, metadata: undefined, filename: '', mediaType: 'text/plain' });
  } else {
    if (text !== undefined)
      parts.push({ content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' });
    if (spec.data !== undefined && spec.data !== null) {
      // A2A data parts carry a JSON object; other values are wrapped so nothing is lost.
      const value = typeof spec.data === 'object' && !Array.isArray(spec.data) ? spec.data : { value: spec.data };
      parts.push({ content: { $case: 'data', value }, metadata: undefined, filename: '', mediaType: 'application/json' });
    }
  }
  if (parts.length === 0) {
    parts.push({ content: { $case: 'text', value: '' }, metadata: undefined, filename: '', mediaType: 'text/plain' });
  }
  return {
    messageId: spec.messageId,
    role: Role.ROLE_USER,
    parts,
    taskId: spec.taskId ?? '',
    contextId: spec.contextId ?? '',
    extensions: [],
    metadata: spec.metadata,
    referenceTaskIds: [],
  };
}

/** What the node outputs: data parts merged, `text` (text parts joined) and `artifacts`. */
export interface AgentOutput {
  [key: string]: unknown;
  text: string;
  artifacts: SimpleArtifact[];
}

export interface SimpleArtifact {
  artifactId: string;
  name: string;
  parts: SimplePart[];
}

export type SimplePart =
  | { kind: 'text'; text: string }
  | { kind: 'data'; data: unknown }
  | { kind: 'file'; url?: string; filename?: string; mediaType?: string };

function simplify(part: Part): SimplePart | undefined {
  const c = part.content;
  if (!c) return undefined;
  switch (c.$case) {
    case 'text':
      return { kind: 'text', text: c.value };
    case 'data':
      return { kind: 'data', data: c.value };
    case 'url':
      return { kind: 'file', url: c.value, filename: part.filename || undefined, mediaType: part.mediaType || undefined };
    case 'raw':
      return { kind: 'file', filename: part.filename || undefined, mediaType: part.mediaType || undefined };
  }
}

/** Builds the output from the artifacts and final message of a task, or from a direct message. */
export function outputOf(artifacts: readonly Artifact[], finalMessage: Message | undefined): AgentOutput {
  let data: Record<string, unknown> = {};
  const texts: string[] = [];
  const collect = (parts: readonly Part[]) => {
    for (const p of parts) {
      const s = simplify(p);
      if (s?.kind === 'text' && s.text !== '') texts.push(s.text);
      if (s?.kind === 'data' && s.data && typeof s.data === 'object' && !Array.isArray(s.data)) {
        data = { ...data, ...(s.data as Record<string, unknown>) };
      }
    }
  };
  for (const a of artifacts) collect(a.parts);
  if (finalMessage) collect(finalMessage.parts);
  return {
    ...data,
    text: texts.join('\n'),
    artifacts: artifacts.map((a) => ({
      artifactId: a.artifactId,
      name: a.name,
      parts: a.parts.map(simplify).filter((p): p is SimplePart => p !== undefined),
    })),
  };
}

/** The text of a status message (the agent's question, or its failure reason). */
export function messageText(message: Message | undefined): string {
  if (!message) return '';
  return message.parts
    .map((p) => (p.content?.$case === 'text' ? p.content.value : ''))
    .filter((t) => t !== '')
    .join('\n');
}

/** Cost per SPEC §6: `{ costUsd, usage }` in the metadata of the final message, else of the task. */
export function costOf(...sources: (Record<string, unknown> | undefined)[]): CostReport | undefined {
  for (const meta of sources) {
    if (!meta) continue;
    const costUsd =
      typeof meta.costUsd === 'number' && Number.isFinite(meta.costUsd) && meta.costUsd >= 0 ? meta.costUsd : undefined;
    const u = meta.usage as { inputTokens?: unknown; outputTokens?: unknown } | undefined;
    const usage =
      u && typeof u === 'object'
        ? {
            ...(typeof u.inputTokens === 'number' ? { inputTokens: u.inputTokens } : {}),
            ...(typeof u.outputTokens === 'number' ? { outputTokens: u.outputTokens } : {}),
          }
        : undefined;
    if (costUsd !== undefined || usage) return { ...(costUsd !== undefined ? { costUsd } : {}), ...(usage ? { usage } : {}) };
  }
  return undefined;
}

export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set([
  TaskState.TASK_STATE_COMPLETED,
  TaskState.TASK_STATE_FAILED,
  TaskState.TASK_STATE_CANCELED,
  TaskState.TASK_STATE_REJECTED,
]);
export const INTERRUPTED_STATES: ReadonlySet<TaskState> = new Set([
  TaskState.TASK_STATE_INPUT_REQUIRED,
  TaskState.TASK_STATE_AUTH_REQUIRED,
]);

/** True once the task no longer needs following (terminal, or waiting for a person). */
export function isSettled(state: TaskState | undefined): boolean {
  return state !== undefined && (TERMINAL_STATES.has(state) || INTERRUPTED_STATES.has(state));
}

/** The node outcome of a settled task: output, a prompt to wait on, or a thrown error. */
export type TaskOutcome = { kind: 'succeeded'; output: AgentOutput } | { kind: 'waiting'; prompt: string };

export function outcomeOf(task: Task, agentName: string): TaskOutcome {
  const status = task.status;
  const text = messageText(status?.message);
  switch (status?.state) {
    case TaskState.TASK_STATE_COMPLETED:
      return { kind: 'succeeded', output: outputOf(task.artifacts, status.message) };
    case TaskState.TASK_STATE_INPUT_REQUIRED:
      return { kind: 'waiting', prompt: text || `${agentName} needs more input to continue` };
    case TaskState.TASK_STATE_AUTH_REQUIRED:
      return { kind: 'waiting', prompt: text || `${agentName} needs authorization to continue` };
    case TaskState.TASK_STATE_FAILED:
      throw new TrellisError('AGENT_ERROR', `${agentName} failed the task${text ? `: ${text}` : ''}`, {
        category: 'remote',
        details: { taskId: task.id, state: 'failed' },
      });
    case TaskState.TASK_STATE_REJECTED:
      throw new TrellisError('AGENT_ERROR', `${agentName} rejected the task${text ? `: ${text}` : ''}`, {
        category: 'remote',
        details: { taskId: task.id, state: 'rejected' },
      });
    case TaskState.TASK_STATE_CANCELED:
      throw new TrellisError('CANCELLED', `${agentName} cancelled the task${text ? `: ${text}` : ''}`, {
        category: 'remote',
        details: { taskId: task.id, state: 'canceled' },
      });
    default:
      throw new TrellisError('AGENT_ERROR', `${agentName} left the task in state ${String(status?.state)}`, {
        category: 'remote',
      });
  }
}

const DATA_MODES = /^(\*\/\*|application\/\*|application\/json|[a-z]+\/[a-z0-9.+-]*\+json|data|json)$/i;

/**
 * Whether a data part may be sent: the skill's `inputModes` when it declares any, else the
 * agent's `defaultInputModes`; none declared means no restriction. A mode list with only text
 * media types (`text`, `text/plain`, …) means the input must go as text.
 */
export function acceptsData(
  card: { defaultInputModes?: string[]; skills?: { id: string; inputModes?: string[] }[] },
  skill?: string,
): boolean {
  const skillModes = skill ? card.skills?.find((s) => s.id === skill)?.inputModes : undefined;
  const modes = skillModes && skillModes.length > 0 ? skillModes : (card.defaultInputModes ?? []);
  if (modes.length === 0) return true;
  return modes.some((m) => DATA_MODES.test(m.trim()));
}
