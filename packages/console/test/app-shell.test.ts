// @vitest-environment happy-dom
/** Routing and the session: paths to pages and back, the one-time sign-in link, sign-out. */
import { afterEach, describe, expect, it } from 'vitest';
import { parseRoute, type Route, routePath } from '../src/app/routes.ts';
import { bootstrapToken, clearToken, loadToken, tokenFromHash } from '../src/auth/session.ts';

afterEach(() => localStorage.clear());

describe('routes', () => {
  it('parses every page and prints it back', () => {
    const routes: Route[] = [
      { page: 'workflows' },
      { page: 'builder', workflowId: undefined },
      { page: 'builder', workflowId: 'wf 1' },
      { page: 'runs', workflowId: 'wf1' },
      { page: 'run', runId: 'r1' },
      { page: 'templates' },
      { page: 'agents' },
      { page: 'tools' },
    ];
    for (const r of routes) expect(parseRoute(routePath(r))).toEqual(r);
    expect(parseRoute('/')).toEqual({ page: 'workflows' });
    expect(parseRoute('/workflows/a/b/c')).toEqual({ page: 'not_found', path: '/workflows/a/b/c' });
  });
});

describe('session', () => {
  it('reads the token of the one-time link', () => {
    expect(tokenFromHash('#token=trls_abc')).toBe('trls_abc');
    expect(tokenFromHash('#other=1')).toBeUndefined();
    expect(tokenFromHash('')).toBeUndefined();
  });

  it('stores the link token, removes it from the address, and remembers it', () => {
    history.replaceState(null, '', '/runs/r1?x=1#token=trls_link');
    expect(bootstrapToken(window)).toBe('trls_link');
    expect(location.hash).toBe('');
    expect(location.pathname + location.search).toBe('/runs/r1?x=1');
    expect(loadToken(localStorage)).toBe('trls_link');
    expect(bootstrapToken(window)).toBe('trls_link');
    clearToken(localStorage);
    expect(bootstrapToken(window)).toBeUndefined();
  });
});
