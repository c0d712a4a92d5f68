/** A workflow's version history; opening a version loads it into the builder. */
import { useState } from 'react';
import type { WorkflowDefinition } from '../api/types.ts';
import { useApi } from '../app/context.ts';
import { formatTime } from '../app/format.ts';
import { useAsync } from '../app/use-async.ts';
import { EmptyState, ErrorBanner, Loading } from './Feedback.tsx';

interface Props {
  workflowId: string;
  onOpen: (definition: WorkflowDefinition, version: number) => void;
  onClose: () => void;
}

export function VersionsPanel({ workflowId, onOpen, onClose }: Props) {
  const api = useApi();
  const list = useAsync(() => api.listVersions(workflowId), [api, workflowId]);
  const [error, setError] = useState<unknown>(undefined);

  async function open(v: number) {
    setError(undefined);
    try {
      const version = await api.getVersion(workflowId, v);
      onOpen(version.definition, v);
    } catch (err) {
      setError(err);
    }
  }

  return (
    <div>
      <h2>
        Versions
        <button type="button" className="ghost" onClick={onClose} aria-label="Close versions">
          ×
        </button>
      </h2>
      <ErrorBanner error={list.error} onRetry={list.reload} />
      <ErrorBanner error={error} />
      {list.loading && <Loading what="versions" />}
      {list.data?.length === 0 && <EmptyState title="No versions" />}
      <ul className="problems" aria-label="Version list">
        {[...(list.data ?? [])]
          .sort((a, b) => b.version - a.version)
          .map((v) => (
            <li key={v.version} className="row">
              <strong>v{v.version}</strong>
              <span className="muted small">
                {formatTime(v.createdAt)} {v.createdBy ? `by ${v.createdBy}` : ''}
              </span>
              <button type="button" onClick={() => open(v.version)} aria-label={`Open version ${v.version}`}>
                Open
              </button>
            </li>
          ))}
      </ul>
    </div>
  );
}
