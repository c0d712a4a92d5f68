/** The node inspector: a form that follows the node's type, and for tools and agent skills their input schema. */
import { NODE_ID_PATTERN, type ValidationError } from '@trellis/core';
import { useEffect, useId, useState } from 'react';
import type { Agent, SecretInfo, ToolInfo, WorkflowSummary } from '../api/types.ts';
import type { EditorChange } from '../editor/changes.ts';
import type { DraftNode, EditorDoc } from '../editor/doc.ts';
import { bindingSuggestions } from '../editor/suggestions.ts';
import { expressionSyntaxError, expressionSyntaxProblem } from '../editor/validate.ts';
import { BindingsEditor } from './BindingsEditor.tsx';
import { ExpressionCheck } from './ExpressionCheck.tsx';
import { HttpHeadersEditor } from './HttpHeadersEditor.tsx';
import { ValuePreview } from './RunDataPreview.tsx';
import { SkillDetails } from './SkillDetails.tsx';

interface Props {
  node: DraftNode;
  doc: EditorDoc;
  problems: readonly ValidationError[];
  /** Warnings pinned to this node (valid, but probably not as meant). */
  warnings?: readonly ValidationError[];
  agents: readonly Agent[];
  tools: readonly ToolInfo[];
  /** The secrets this workflow may use (global and its own): offered where secrets are allowed. */
  secrets?: readonly SecretInfo[];
  /** Workflows a `workflow` node (or a map's workflow body) may run. */
  workflows?: readonly WorkflowSummary[];
  dispatch: (change: EditorChange) => void;
}

const MAP_BODY_TYPES = ['tool_call', 'agent_call', 'transform', 'workflow', 'human_gate'] as const;
const BODY_DEFAULTS: Record<string, Record<string, unknown>> = {
  tool_call: { tool: 'http.request', input: { url: '{{ $item.url }}' } },
  agent_call: { agent: '', input: { item: '$item' } },
  transform: { expression: '$item' },
  workflow: { workflow: '', input: { item: '$item' } },
  human_gate: { prompt: 'Keep {{ $item }}?' },
};

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function numOrUndef(text: string): number | undefined {
  if (text.trim() === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

export function NodeInspector({
  node,
  doc,
  problems,
  warnings = [],
  agents,
  tools,
  secrets = [],
  workflows = [],
  dispatch,
}: Props) {
  const [idText, setIdText] = useState(node.id);
  const agentList = useId();
  const toolList = useId();
  const skillList = useId();
  const workflowList = useId();
  useEffect(() => setIdText(node.id), [node.id]);
  const set = (patch: Record<string, unknown>) => dispatch({ kind: 'update_node', id: node.id, patch });
  const suggestions = bindingSuggestions(doc, node.id);

  const idError =
    idText === node.id
      ? undefined
      : !NODE_ID_PATTERN.test(idText)
        ? 'Letters, digits and _, not starting with a digit.'
        : doc.nodes.some((n) => n.id === idText)
          ? 'Another node has this id.'
          : undefined;

  function commitRename() {
    if (idText !== node.id && !idError) dispatch({ kind: 'rename_node', from: node.id, to: idText });
  }

  const agentName = typeof node.agent === 'string' ? node.agent : '';
  const agent = agents.find((a) => a.name === agentName || a.id === agentName);
  const skill = agent?.skills.find((s) => s.id === node.skill);
  const tool = tools.find((t) => t.name === node.tool);
  const inputSchema = node.type === 'tool_call' ? tool?.inputSchema : node.type === 'agent_call' ? skill?.inputSchema : undefined;
  const exprError =
    node.type === 'condition' || node.type === 'transform' ? expressionSyntaxError(str(node.expression)) : undefined;
  const retry = (node.retry && typeof node.retry === 'object' ? node.retry : {}) as Record<string, unknown>;
  const setRetry = (key: string, text: string) => {
    const next = { ...retry, [key]: numOrUndef(text) };
    for (const k of Object.keys(next)) if (next[k] === undefined) delete next[k];
    set({ retry: Object.keys(next).length ? next : undefined });
  };

  return (
    <form className="inspector" aria-label={`Node ${node.id}`} onSubmit={(e) => e.preventDefault()}>
      <h2>
        Node <code>{node.type}</code>
      </h2>
      {problems.length > 0 && (
        <ul className="problems" aria-label="Problems of this node">
          {problems.map((p) => (
            <li key={`${p.code}:${p.path}:${p.message}`}>
              <code>{p.code}</code> {p.message}
            </li>
          ))}
        </ul>
      )}
      {warnings.length > 0 && (
        <ul className="problems warnings" aria-label="Warnings of this node">
          {warnings.map((p) => (
            <li key={`${p.code}:${p.path}:${p.message}`}>
              <code>{p.code}</code> {p.message}
            </li>
          ))}
        </ul>
      )}
      <label>
        Id
        <input
          value={idText}
          onChange={(e) => setIdText(e.target.value)}
          onBlur={commitRename}
          onKeyDown={(e) => e.key === 'Enter' && commitRename()}
          aria-invalid={idError ? true : undefined}
        />
        {idError && <span className="field-error">{idError}</span>}
      </label>
      <label>
        Name
        <input value={str(node.name)} onChange={(e) => set({ name: e.target.value || undefined })} />
      </label>

      {node.type === 'agent_call' && (
        <>
          <datalist id={agentList}>
            {agents.map((a) => (
              <option key={a.id} value={a.name} />
            ))}
          </datalist>
          <label>
            Agent
            <input
              list={agentList}
              value={agentName}
              onChange={(e) => set({ agent: e.target.value })}
              placeholder="registered agent name or id"
            />
          </label>
          <datalist id={skillList}>
            {agent?.skills.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </datalist>
          <label>
            Skill
            <input list={skillList} value={str(node.skill)} onChange={(e) => set({ skill: e.target.value || undefined })} />
          </label>
          {agent && <SkillDetails agent={agent} skillId={str(node.skill) || undefined} compact />}
          <label>
            Message (template)
            <textarea rows={3} value={str(node.message)} onChange={(e) => set({ message: e.target.value || undefined })} />
            <ValuePreview value={node.message} />
          </label>
        </>
      )}
      {node.type === 'tool_call' && (
        <>
          <datalist id={toolList}>
            <option value="http.request" />
            {tools.map((t) => (
              <option key={t.name} value={t.name} />
            ))}
          </datalist>
          <label>
            Tool
            <input
              list={toolList}
              value={str(node.tool)}
              onChange={(e) => set({ tool: e.target.value })}
              placeholder="server/tool or http.request"
            />
          </label>
          {tool?.description && <p className="muted small">{tool.description}</p>}
        </>
      )}
      {node.type === 'human_gate' && (
        <>
          <label>
            Prompt (template)
            <textarea rows={3} value={str(node.prompt)} onChange={(e) => set({ prompt: e.target.value })} />
          </label>
          <label>
            Decision timeout (ms)
            <input
              inputMode="numeric"
              value={node.timeoutMs === undefined ? '' : String(node.timeoutMs)}
              onChange={(e) => set({ timeoutMs: numOrUndef(e.target.value) })}
            />
          </label>
          <label>
            On timeout
            <select value={str(node.onTimeout)} onChange={(e) => set({ onTimeout: e.target.value || undefined })}>
              <option value="">reject (default)</option>
              <option value="approve">approve</option>
              <option value="reject">reject</option>
            </select>
          </label>
        </>
      )}
      {(node.type === 'condition' || node.type === 'transform') && (
        <label>
          Expression (JSONata)
          <textarea
            className="code"
            rows={4}
            value={str(node.expression)}
            onChange={(e) => set({ expression: e.target.value })}
            aria-invalid={exprError ? true : undefined}
            spellCheck={false}
          />
          <ExpressionCheck source={str(node.expression)} doc={doc} okText="" />
          {!expressionSyntaxProblem(str(node.expression)) && <ValuePreview value={node.expression} kind="expression" />}
          <span className="muted small">
            In scope: {suggestions.filter((s) => !s.includes('.') || s.startsWith('$context.')).join(', ')}
          </span>
        </label>
      )}
      {node.type === 'workflow' && (
        <>
          <datalist id={workflowList}>
            {workflows.map((w) => (
              <option key={w.id} value={w.name}>
                {w.id}
              </option>
            ))}
          </datalist>
          <label>
            Workflow
            <input
              list={workflowList}
              value={str(node.workflow)}
              onChange={(e) => set({ workflow: e.target.value })}
              placeholder="name or id of a workflow you can run"
            />
          </label>
          <label>
            Version (empty: the latest when the child starts)
            <input
              inputMode="numeric"
              value={node.version === undefined ? '' : String(node.version)}
              onChange={(e) => set({ version: numOrUndef(e.target.value) })}
            />
          </label>
          <BindingsEditor value={node.input} schema={undefined} suggestions={suggestions} onChange={(input) => set({ input })} />
        </>
      )}
      {node.type === 'map' && (
        <MapFields
          node={node}
          set={set}
          suggestions={suggestions}
          agentList={agentList}
          toolList={toolList}
          workflowList={workflowList}
          agents={agents}
          tools={tools}
          workflows={workflows}
        />
      )}
      {node.type === 'join' && (
        <label>
          Mode
          <select
            value={str(node.mode) || 'all'}
            onChange={(e) => set({ mode: e.target.value === 'all' ? undefined : e.target.value })}
          >
            <option value="all">all: when every predecessor is resolved</option>
            <option value="any">any: as soon as one edge is taken</option>
          </select>
        </label>
      )}
      {(node.type === 'agent_call' || node.type === 'tool_call' || node.type === 'parallel') && (
        <BindingsEditor value={node.input} schema={inputSchema} suggestions={suggestions} onChange={(input) => set({ input })} />
      )}
      {node.type === 'tool_call' && node.tool === 'http.request' && (
        <HttpHeadersEditor
          headers={(node.input as Record<string, unknown> | undefined)?.headers}
          secrets={secrets}
          onChange={(headers) => {
            const input = { ...((node.input as Record<string, unknown> | undefined) ?? {}) };
            if (headers === undefined) delete input.headers;
            else input.headers = headers;
            set({ input: Object.keys(input).length ? input : undefined });
          }}
        />
      )}

      <fieldset>
        <legend>Execution</legend>
        <label>
          On error
          <select
            value={str(node.onError) || 'fail'}
            onChange={(e) => set({ onError: e.target.value === 'fail' ? undefined : e.target.value })}
          >
            <option value="fail">fail the run</option>
            <option value="continue">continue (output is the error)</option>
          </select>
        </label>
        {node.type !== 'human_gate' && node.type !== 'map' && (
          <label>
            Timeout per attempt (ms)
            <input
              inputMode="numeric"
              value={node.timeoutMs === undefined ? '' : String(node.timeoutMs)}
              onChange={(e) => set({ timeoutMs: numOrUndef(e.target.value) })}
            />
          </label>
        )}
        {/* A gate waits for a person: attempts and backoff mean nothing for it. A map retries per item (in its do body). */}
        {node.type !== 'human_gate' && node.type !== 'map' && (
          <>
            <label>
              Max attempts
              <input
                inputMode="numeric"
                value={retry.maxAttempts === undefined ? '' : String(retry.maxAttempts)}
                onChange={(e) => setRetry('maxAttempts', e.target.value)}
                placeholder="1"
              />
            </label>
            <label>
              Initial delay (ms)
              <input
                inputMode="numeric"
                value={retry.initialDelayMs === undefined ? '' : String(retry.initialDelayMs)}
                onChange={(e) => setRetry('initialDelayMs', e.target.value)}
                placeholder="1000"
              />
            </label>
            <label>
              Backoff factor
              <input
                inputMode="decimal"
                value={retry.backoffFactor === undefined ? '' : String(retry.backoffFactor)}
                onChange={(e) => setRetry('backoffFactor', e.target.value)}
                placeholder="2"
              />
            </label>
          </>
        )}
      </fieldset>
      <button type="button" className="danger" onClick={() => dispatch({ kind: 'remove', nodeIds: [node.id], edgeIndexes: [] })}>
        Delete node
      </button>
    </form>
  );
}

/** A map node: items, concurrency, onItemError, and the `do` body run per item. */
function MapFields({
  node,
  set,
  suggestions,
  agentList,
  toolList,
  workflowList,
  agents,
  tools,
  workflows,
}: {
  node: DraftNode;
  set: (patch: Record<string, unknown>) => void;
  suggestions: string[];
  agentList: string;
  toolList: string;
  workflowList: string;
  agents: readonly Agent[];
  tools: readonly ToolInfo[];
  workflows: readonly WorkflowSummary[];
}) {
  const body = (node.do && typeof node.do === 'object' ? node.do : { type: 'transform', expression: '$item' }) as Record<
    string,
    unknown
  >;
  const bodyType = str(body.type) || 'transform';
  const setBody = (patch: Record<string, unknown>) => {
    const next: Record<string, unknown> = { ...body, ...patch };
    for (const k of Object.keys(next)) if (next[k] === undefined) delete next[k];
    set({ do: next });
  };
  const itemSuggestions = ['$item', '$index', ...suggestions];
  const bodyRetry = (body.retry && typeof body.retry === 'object' ? body.retry : {}) as Record<string, unknown>;
  const bodyTool = tools.find((t) => t.name === body.tool);
  return (
    <>
      <label>
        Items (a binding that resolves to an array)
        <input
          className="code"
          value={str(node.items)}
          onChange={(e) => set({ items: e.target.value })}
          placeholder="$search.hotels"
          spellCheck={false}
        />
      </label>
      <label>
        Concurrency (items at once)
        <input
          inputMode="numeric"
          value={node.concurrency === undefined ? '' : String(node.concurrency)}
          onChange={(e) => set({ concurrency: numOrUndef(e.target.value) })}
          placeholder="8"
        />
      </label>
      <label>
        Max items
        <input
          inputMode="numeric"
          value={node.maxItems === undefined ? '' : String(node.maxItems)}
          onChange={(e) => set({ maxItems: numOrUndef(e.target.value) })}
          placeholder="10000"
        />
      </label>
      <label>
        On item error
        <select
          value={str(node.onItemError) || 'fail'}
          onChange={(e) => set({ onItemError: e.target.value === 'fail' ? undefined : e.target.value })}
        >
          <option value="fail">fail: cancel the items in flight, fail the node</option>
          <option value="continue">continue: failed items are null, errors listed</option>
        </select>
      </label>
      <fieldset aria-label="Per item (do)">
        <legend>Per item (do) — $item and $index are in scope</legend>
        <label>
          Type
          <select value={bodyType} onChange={(e) => set({ do: { type: e.target.value, ...BODY_DEFAULTS[e.target.value] } })}>
            {MAP_BODY_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        {bodyType === 'tool_call' && (
          <label>
            Tool
            <input list={toolList} value={str(body.tool)} onChange={(e) => setBody({ tool: e.target.value })} />
          </label>
        )}
        {bodyType === 'agent_call' && (
          <>
            <label>
              Agent
              <input list={agentList} value={str(body.agent)} onChange={(e) => setBody({ agent: e.target.value })} />
            </label>
            <label>
              Skill
              <input value={str(body.skill)} onChange={(e) => setBody({ skill: e.target.value || undefined })} />
            </label>
            <label>
              Message (template)
              <textarea rows={2} value={str(body.message)} onChange={(e) => setBody({ message: e.target.value || undefined })} />
            </label>
          </>
        )}
        {bodyType === 'transform' && (
          <label>
            Expression (JSONata)
            <textarea
              className="code"
              rows={3}
              value={str(body.expression)}
              onChange={(e) => setBody({ expression: e.target.value })}
              spellCheck={false}
            />
          </label>
        )}
        {bodyType === 'human_gate' && (
          <label>
            Prompt (template)
            <textarea rows={2} value={str(body.prompt)} onChange={(e) => setBody({ prompt: e.target.value })} />
          </label>
        )}
        {bodyType === 'workflow' && (
          <label>
            Workflow
            <input
              list={workflowList}
              value={str(body.workflow)}
              onChange={(e) => setBody({ workflow: e.target.value })}
              placeholder={workflows[0]?.name ?? 'name or id'}
            />
          </label>
        )}
        {bodyType !== 'transform' && bodyType !== 'human_gate' && (
          <BindingsEditor
            value={body.input}
            schema={bodyType === 'tool_call' ? bodyTool?.inputSchema : undefined}
            suggestions={itemSuggestions}
            onChange={(input) => setBody({ input })}
          />
        )}
        {bodyType !== 'human_gate' && (
          <label>
            Timeout per item attempt (ms)
            <input
              inputMode="numeric"
              value={body.timeoutMs === undefined ? '' : String(body.timeoutMs)}
              onChange={(e) => setBody({ timeoutMs: numOrUndef(e.target.value) })}
            />
          </label>
        )}
        <label>
          Max attempts per item
          <input
            inputMode="numeric"
            value={bodyRetry.maxAttempts === undefined ? '' : String(bodyRetry.maxAttempts)}
            onChange={(e) => {
              const n = numOrUndef(e.target.value);
              const next = { ...bodyRetry, maxAttempts: n };
              if (n === undefined) delete next.maxAttempts;
              setBody({ retry: Object.keys(next).length ? next : undefined });
            }}
            placeholder="1"
          />
        </label>
      </fieldset>
      <p className="muted small">{agents.length === 0 && bodyType === 'agent_call' ? 'No agents registered yet.' : ''}</p>
    </>
  );
}
