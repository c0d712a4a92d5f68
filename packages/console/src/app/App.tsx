/** The console: sign-in gate, then one page per route. */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { ApiClient } from '../api/client.ts';
import { bootstrapToken, clearToken, saveToken, tokenFromHash } from '../auth/session.ts';
import { EmptyState } from '../components/Feedback.tsx';
import { Layout, Link } from '../components/Layout.tsx';
import { Agents } from '../pages/Agents.tsx';
import { Builder } from '../pages/Builder.tsx';
import { Runs } from '../pages/Runs.tsx';
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
    case 'run':
      return <RunView key={route.runId} runId={route.runId} />;
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

  // A sign-in link opened in a tab that already shows the console changes only the hash.
  useEffect(() => {
    const onHash = () => {
      if (!tokenFromHash(window.location.hash)) return;
      setToken(bootstrapToken(window));
      setNotice(undefined);
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

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
