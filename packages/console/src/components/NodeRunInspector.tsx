/** One node of a run: status, attempts, input, output, error and cost. */
import type { NodeRunRecord } from '@trellis/core';
import { formatCost, formatDuration, formatJson } from '../app/format.ts';
import type { NodeView } from '../run/run-state.ts';
import { StatusBadge } from './Feedback.tsx';

export function NodeRunInspector({
  nodeId,
  live,
  record,
}: {
  nodeId: string;
  live: NodeView | undefined;
  record: NodeRunRecord | undefined;
}) {
  const status = live?.status ?? record?.status;
  const output = live?.output ?? record?.output;
  const error = live?.error ?? record?.error ?? undefined;
  const cost = Math.max(live?.costUsd ?? 0, record?.costUsd ?? 0);
  return (
    <section aria-label={`Node ${nodeId} details`}>
      <h2>
        <code>{nodeId}</code> <StatusBadge status={status} />
      </h2>
      <dl className="kv">
        <dt>Cost</dt>
        <dd>{formatCost(cost)}</dd>
        <dt>Attempts</dt>
        <dd>{live?.attempts.length || record?.attempts.length || 0}</dd>
      </dl>
      {live && live.attempts.length > 0 && (
        <ol className="small">
          {live.attempts.map((a) => (
            <li key={a.attempt}>
              attempt {a.attempt}: {a.state}
              {a.end !== undefined ? `, ${formatDuration(a.end - a.start)}` : ''}
              {a.error ? ` — ${a.error.code}: ${a.error.message}` : ''}
            </li>
          ))}
        </ol>
      )}
      {error && (
        <>
          <h3 className="small">Error</h3>
          <pre className="field-error">{`${error.code}: ${error.message}`}</pre>
        </>
      )}
      <h3 className="small">Input</h3>
      <pre data-field="node-input">{formatJson(record?.input)}</pre>
      <h3 className="small">Output</h3>
      <pre data-field="node-output">{formatJson(output)}</pre>
    </section>
  );
}
