/** The console: sign-in gate, then one page per route. */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { ApiClient } from '../api/client.ts';
import { ApiError, describeError } from '../api/problem.ts';
import { bootstrapToken, clearToken, saveToken, tokenFromHash } from '../auth/session.ts';
import { codeFromHash, exchangeSignInCode, takeSignInCode } from '../auth/sign-in-code.ts';
import { EmptyState } from '../components/Feedback.tsx';
import { Layout, Link } from '../components/Layout.tsx';
import { Agents } from '../pages/Agents.tsx';
import { Analytics } from '../pages/Analytics.tsx';
import { Builder } from '../pages/Builder.tsx';
import { Compare } from '../pages/Compare.tsx';
import { AllRuns, Runs } from '../pages/Runs.tsx';
import { RunView } from '../pages/RunView.tsx';
import { Secrets } from '../pages/Secrets.tsx';
import { SignIn } from '../pages/SignIn.tsx';
import { Templates } from '../pages/Templates.tsx';
import { Tools } from '../pages/Tools.tsx';
import { Workflows } from '../pages/Workflows.tsx';
import { ApiContext } from './context.ts';
import { usePathname } from './navigation.ts';
import { parseRoute, type Route } from './routes.ts';

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'workflows':
      return <Workflows />;
    case 'builder':
      return <Builder key={route.workflowId ?? 'new'} workflowId={route.workflowId} />;
    case 'runs':
      return <Runs workflowId={route.workflowId} />;
    case 'all_runs':
      return <AllRuns />;
    case 'run':
      return <RunView key={route.runId} runId={route.runId} />;
    case 'analytics':
      return <Analytics key={route.workflowId} workflowId={route.workflowId} />;
    case 'compare':
      return <Compare key={location.search} search={location.search} />;
    case 'templates':
      return <Templates />;
    case 'agents':
      return <Agents />;
    case 'tools':
      return <Tools />;
    case 'secrets':
      return <Secrets />;
    case 'not_found':
      return (
        <EmptyState title="Page not found">
          <p>
            Nothing lives at <code>{route.path}</code>. <Link to="/workflows">Go to the workflows</Link>.
          </p>
        </EmptyState>
      );
  }
}

export function App() {
  const [token, setToken] = useState<string | undefined>(() => bootstrapToken(window));
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const pathname = usePathname();
  const route = parseRoute(pathname);

  // The one-time sign-in link (`#code=…`): exchanged once for a session token.
  const [signingIn, setSigningIn] = useState(() => codeFromHash(window.location.hash) !== undefined);
  const redeem = useCallback((code: string) => {
    setSigningIn(true);
    exchangeSignInCode(code)
      .then((t) => {
        saveToken(window.localStorage, t);
        setNotice(undefined);
        setToken(t);
      })
      .catch((err: unknown) => {
        clearToken(window.localStorage);
        setToken(undefined);
        setNotice(`Sign-in link refused: ${err instanceof ApiError && err.status === 401 ? err.message : describeError(err)}`);
      })
      .finally(() => setSigningIn(false));
  }, []);
  useEffect(() => {
    const code = takeSignInCode(window);
    if (code) redeem(code);
  }, [redeem]);

  // A sign-in link opened in a tab that already shows the console changes only the hash.
  useEffect(() => {
    const onHash = () => {
      const code = takeSignInCode(window);
      if (code) {
        redeem(code);
        return;
      }
      if (!tokenFromHash(window.location.hash)) return;
      setToken(bootstrapToken(window));
      setNotice(undefined);
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [redeem]);

  const signOut = useCallback((why?: string) => {
    clearToken(window.localStorage);
    setNotice(why);
    setToken(undefined);
  }, []);

  const api = useMemo(
    () =>
      token
        ? new ApiClient({ token, onUnauthorized: () => signOut('Your session ended: the token was not accepted.') })
        : undefined,
    [token, signOut],
  );

  if (signingIn) {
    return (
      <main className="signin">
        <p className="muted">Signing in…</p>
      </main>
    );
  }
  if (!api) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(t) => {
          saveToken(window.localStorage, t);
          setNotice(undefined);
          setToken(t);
        }}
      />
    );
  }
  return (
    <ApiContext.Provider value={api}>
      <Layout pathname={pathname} onSignOut={() => signOut()} full={route.page === 'builder' || route.page === 'run'}>
        <Page route={route} />
      </Layout>
    </ApiContext.Provider>
  );
}
