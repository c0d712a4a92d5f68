/** One node of a run: status, attempts, input, output, error and cost. */
import type { NodeRunRecord } from '@trellis/core';
import { formatCost, formatDuration, formatJson, shortRunId } from '../app/format.ts';
import { attemptDurationMs } from '../run/durations.ts';
import type { Question } from '../run/questions.ts';
import type { NodeView } from '../run/run-state.ts';
import { StatusBadge } from './Feedback.tsx';
import { Link } from './Layout.tsx';
import { MapItems } from './MapItems.tsx';

export function NodeRunInspector({
  nodeId,
  live,
  record,
  onRerun,
  questions = [],
}: {
  nodeId: string;
  live: NodeView | undefined;
  record: NodeRunRecord | undefined;
  /** The questions the node asked (an agent's input-required, a gate's prompt), with their answers. */
  questions?: readonly Question[];
  /** A finished run: retry it from this node (a new run; this node and its downstream run again). */
  onRerun?: () => void;
}) {
  const reusedFrom = live?.reusedFrom ?? record?.reusedFrom;
  const saved = live?.costSavedUsd ?? record?.costSavedUsd;
  const status = live?.status ?? record?.status;
  const output = live?.output ?? record?.output;
  const error = live?.error ?? record?.error ?? undefined;
  const cost = Math.max(live?.costUsd ?? 0, record?.costUsd ?? 0);
  return (
    <section aria-label={`Node ${nodeId} details`}>
      <h2>
        <code>{nodeId}</code> <StatusBadge status={status} />
      </h2>
      {reusedFrom && (
        <p className="reused-note" data-field="reused-from">
          Reused from run{' '}
          <Link to={`/runs/${encodeURIComponent(reusedFrom)}`}>
            <code>{shortRunId(reusedFrom)}</code>
          </Link>{' '}
          — not executed in this run{saved ? `; saved ${formatCost(saved)}` : ''}.
          {record?.reuseNote ? ` ${record.reuseNote}.` : ''}
        </p>
      )}
      {record?.notReused && <p className="muted small">Runs again: {record.notReused}.</p>}
      {record?.approvalRequired && status === 'waiting' && <p className="small">{record.approvalRequired}</p>}
      {onRerun && (
        <button
          type="button"
          onClick={onRerun}
          title="A new run that reuses everything this node does not depend on; this node and its downstream run again"
        >
          Rerun from here
        </button>
      )}
      {record?.childRunId && (
        <p data-field="child-run">
          Child run{' '}
          <Link to={`/runs/${encodeURIComponent(record.childRunId)}`}>
            <code>{shortRunId(record.childRunId)}</code>
          </Link>
        </p>
      )}
      {(live?.items || record?.itemCount !== undefined) && (
        <MapItems count={record?.itemCount} live={live?.items} records={record?.items} />
      )}
      {questions.length > 0 && (
        <section aria-label="Questions and answers" data-field="questions">
          <h3 className="small">{questions.length === 1 ? 'Question' : 'Questions'}</h3>
          {questions.map((q) => (
            <div key={q.at} className="agent-question">
              <blockquote>{q.prompt}</blockquote>
              {q.answer ? (
                <p className="small" data-field="answer">
                  {q.answer.approved ? 'Answered' : 'Declined'} by <strong>{q.answer.by}</strong>
                  {q.answer.text ? (
                    <>
                      : <q>{q.answer.text}</q>
                    </>
                  ) : null}
                  {q.answer.data !== undefined && <code> {formatJson(q.answer.data)}</code>}
                </p>
              ) : (
                <p className="small muted">Not answered yet.</p>
              )}
            </div>
          ))}
        </section>
      )}
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
              {`, ${formatDuration(attemptDurationMs(a.start, a.end, Date.now()))}${a.end === undefined ? ' so far' : ''}`}
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
