/**
 * The console's pages as a closed union, parsed from the path. History routing (real paths such
 * as `/workflows/new`) because the server answers unknown paths with the app (SPA fallback).
 */
export type Route =
  | { page: 'workflows' }
  | { page: 'builder'; workflowId: string | undefined }
  | { page: 'runs'; workflowId: string }
  | { page: 'run'; runId: string }
  | { page: 'all_runs' }
  | { page: 'analytics'; workflowId: string }
  | { page: 'compare' }
  | { page: 'templates' }
  | { page: 'agents' }
  | { page: 'tools' }
  | { page: 'secrets' }
  | { page: 'not_found'; path: string };

export function parseRoute(pathname: string): Route {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const [a, b, c] = parts;
  if (parts.length === 0) return { page: 'workflows' };
  if (a === 'workflows') {
    if (parts.length === 1) return { page: 'workflows' };
    if (b === 'new' && parts.length === 2) return { page: 'builder', workflowId: undefined };
    if (b && parts.length === 2) return { page: 'builder', workflowId: b };
    if (b && c === 'runs' && parts.length === 3) return { page: 'runs', workflowId: b };
    if (b && c === 'analytics' && parts.length === 3) return { page: 'analytics', workflowId: b };
  }
  if (a === 'runs' && parts.length === 1) return { page: 'all_runs' };
  // `/runs/compare?a=…&b=…` (the two run ids are read from the query by the page).
  if (a === 'runs' && b === 'compare' && parts.length === 2) return { page: 'compare' };
  if (a === 'runs' && b && parts.length === 2) return { page: 'run', runId: b };
  if (a === 'templates' && parts.length === 1) return { page: 'templates' };
  if (a === 'agents' && parts.length === 1) return { page: 'agents' };
  if (a === 'tools' && parts.length === 1) return { page: 'tools' };
  if (a === 'secrets' && parts.length === 1) return { page: 'secrets' };
  return { page: 'not_found', path: pathname };
}

export function routePath(r: Route): string {
  switch (r.page) {
    case 'workflows':
      return '/workflows';
    case 'builder':
      return r.workflowId ? `/workflows/${encodeURIComponent(r.workflowId)}` : '/workflows/new';
    case 'runs':
      return `/workflows/${encodeURIComponent(r.workflowId)}/runs`;
    case 'run':
      return `/runs/${encodeURIComponent(r.runId)}`;
    case 'all_runs':
      return '/runs';
    case 'analytics':
      return `/workflows/${encodeURIComponent(r.workflowId)}/analytics`;
    case 'compare':
      return '/runs/compare';
    case 'templates':
      return '/templates';
    case 'agents':
      return '/agents';
    case 'tools':
      return '/tools';
    case 'secrets':
      return '/secrets';
    case 'not_found':
      return r.path;
  }
}

/**
 * The side-by-side comparison of two runs (the observability work's compare page; the run
 * history links to it with the two selected runs, older first).
 */
export function compareRunsPath(a: string, b: string): string {
  return `/runs/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`;
}
