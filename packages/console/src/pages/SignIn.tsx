/** Sign-in with an API token (`trellis token create`, or the admin token printed by `trellis serve`). */
import { type FormEvent, useState } from 'react';
import { ApiClient } from '../api/client.ts';
import { describeError } from '../api/problem.ts';

export function SignIn({ onSignedIn, notice }: { onSignedIn: (token: string) => void; notice?: string }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const t = token.trim();
    if (!t) {
      setError('Paste an API token: `trellis token create --name you` prints one.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await new ApiClient({ token: t }).whoami();
      onSignedIn(t);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="signin">
      <form onSubmit={submit} aria-label="Sign in">
        <h1>Trellis</h1>
        <p className="muted">Sign in with an API token, or open the one-time link that `trellis serve` printed.</p>
        {notice && <p className="banner">{notice}</p>}
        <label>
          API token
          <input type="password" autoComplete="current-password" value={token} onChange={(e) => setToken(e.target.value)} />
        </label>
        {error && (
          <p className="banner banner-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
