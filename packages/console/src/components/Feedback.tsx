/** Empty states, error banners and status badges: the same look on every page. */
import type { ReactNode } from 'react';
import { describeError } from '../api/problem.ts';

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <section className="empty" aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

export function ErrorBanner({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  return (
    <div className="banner banner-error" role="alert">
      <span>{describeError(error)}</span>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" aria-busy="true">
      Loading {what}…
    </p>
  );
}

export function StatusBadge({ status }: { status: string | undefined }) {
  if (!status) return <span className="muted">—</span>;
  return <span className={`badge status-${status}`}>{status}</span>;
}
