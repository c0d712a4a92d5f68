/**
 * Decide a waiting human gate: approve (with editable data and a comment) or reject. An agent's
 * question (A2A input-required, `asker` set) is shown as a question with an answer box instead:
 * the answer goes back to the agent as the reply text (the decision's comment), "Decline" rejects.
 */
import { type FormEvent, useState } from 'react';
import { useApi } from '../app/context.ts';
import { ErrorBanner } from './Feedback.tsx';

export function GatePanel({
  runId,
  nodeId,
  prompt,
  onDecided,
  asker,
}: {
  runId: string;
  nodeId: string;
  prompt: string | undefined;
  onDecided: () => void;
  /** An agent_call node waiting on its agent's question: the agent's name. */
  asker?: string | undefined;
}) {
  const api = useApi();
  const [comment, setComment] = useState('');
  const [dataText, setDataText] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  async function decide(decision: 'approve' | 'reject', e?: FormEvent) {
    e?.preventDefault();
    setError(undefined);
    let data: unknown;
    if (decision === 'approve' && dataText.trim()) {
      try {
        data = JSON.parse(dataText);
      } catch (err) {
        setError(new Error(`The data is not valid JSON: ${err instanceof Error ? err.message : String(err)}`));
        return;
      }
    }
    setBusy(true);
    try {
      const body: { comment?: string; data?: unknown } = {};
      if (comment.trim()) body.comment = comment.trim();
      if (data !== undefined) body.data = data;
      await api.decideGate(runId, nodeId, decision, body);
      onDecided();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (asker !== undefined) {
    return (
      <form
        className="gate-panel agent-question"
        aria-label={`Question from ${asker}`}
        onSubmit={(e) => {
          if (!comment.trim()) {
            e.preventDefault();
            setError(new Error('Write an answer (or decline the question).'));
            return;
          }
          void decide('approve', e);
        }}
      >
        <h2>
          {asker} asks <span className="muted small">({nodeId})</span>
        </h2>
        <blockquote data-field="question">{prompt || '(the agent asked for more input without a question text)'}</blockquote>
        <label>
          Your answer
          <textarea rows={3} value={comment} onChange={(e) => setComment(e.target.value)} />
        </label>
        <details>
          <summary className="small">Structured reply (JSON, optional)</summary>
          <textarea className="code" rows={3} value={dataText} onChange={(e) => setDataText(e.target.value)} spellCheck={false} />
        </details>
        <ErrorBanner error={error} />
        <div className="row">
          <button type="submit" className="primary" disabled={busy}>
            Send answer
          </button>
          <button type="button" className="danger" disabled={busy} onClick={() => decide('reject')}>
            Decline
          </button>
        </div>
      </form>
    );
  }

  return (
    <form className="gate-panel" aria-label={`Decision for ${nodeId}`} onSubmit={(e) => decide('approve', e)}>
      <h2>Waiting for a decision: {nodeId}</h2>
      {prompt && <p>{prompt}</p>}
      <label>
        Data (JSON, optional)
        <textarea className="code" rows={3} value={dataText} onChange={(e) => setDataText(e.target.value)} spellCheck={false} />
      </label>
      <label>
        Comment
        <input value={comment} onChange={(e) => setComment(e.target.value)} />
      </label>
      <ErrorBanner error={error} />
      <div className="row">
        <button type="submit" className="primary" disabled={busy}>
          Approve
        </button>
        <button type="button" className="danger" disabled={busy} onClick={() => decide('reject')}>
          Reject
        </button>
      </div>
    </form>
  );
}
