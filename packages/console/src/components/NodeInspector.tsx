/** The node inspector: a form that follows the node's type, and for tools and agent skills their input schema. */
import { NODE_ID_PATTERN, type ValidationError } from '@trellis/core';
import { useEffect, useId, useState } from 'react';
import type { Agent, SecretInfo, ToolInfo } from '../api/types.ts';
import type { EditorChange } from '../editor/changes.ts';
import type { DraftNode, EditorDoc } from '../editor/doc.ts';
import { bindingSuggestions } from '../editor/suggestions.ts';
import { expressionSyntaxError } from '../editor/validate.ts';
import { BindingsEditor } from './BindingsEditor.tsx';
import { HttpHeadersEditor } from './HttpHeadersEditor.tsx';

interface Props {
  node: DraftNode;
  doc: EditorDoc;
  problems: readonly ValidationError[];
  agents: readonly Agent[];
  tools: readonly ToolInfo[];
  /** The secrets this workflow may use (global and its own): offered where secrets are allowed. */
  secrets?: readonly SecretInfo[];
  dispatch: (change: EditorChange) => void;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function numOrUndef(text: string): number | undefined {
  if (text.trim() === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

export function NodeInspector({ node, doc, problems, agents, tools, secrets = [], dispatch }: Props) {
  const [idText, setIdText] = useState(node.id);
  const agentList = useId();
  const toolList = useId();
  const skillList = useId();
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
          <label>
            Message (template)
            <textarea rows={3} value={str(node.message)} onChange={(e) => set({ message: e.target.value || undefined })} />
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
          {exprError && <span className="field-error">{exprError}</span>}
          <span className="muted small">
            In scope: {suggestions.filter((s) => !s.includes('.') || s.startsWith('$context.')).join(', ')}
          </span>
        </label>
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
        {node.type !== 'human_gate' && (
          <label>
            Timeout per attempt (ms)
            <input
              inputMode="numeric"
              value={node.timeoutMs === undefined ? '' : String(node.timeoutMs)}
              onChange={(e) => set({ timeoutMs: numOrUndef(e.target.value) })}
            />
          </label>
        )}
        {/* A gate waits for a person: attempts and backoff mean nothing for it. */}
        {node.type !== 'human_gate' && (
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
