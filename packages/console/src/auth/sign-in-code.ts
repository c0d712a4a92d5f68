/**
 * The one-time sign-in link `trellis serve` prints: `http://HOST:PORT/#code=trsi_…`. The code
 * (5 minutes, single use) is taken from the hash, removed from the address bar at once, and
 * exchanged with `POST /api/v1/sign-in` for a session token (12 hours); the token is then kept
 * like any other. A used or expired link is refused by the server with a message saying so.
 */
import { ApiError, problemFrom } from '../api/problem.ts';

/** Returns the code in a `#code=…` hash, or undefined. */
export function codeFromHash(hash: string): string | undefined {
  const c = new URLSearchParams(hash.replace(/^#/, '')).get('code')?.trim();
  return c ? c : undefined;
}

/**
 * Takes a sign-in code from the page's hash (cleaning the URL so a reload or a shared address
 * never carries it), or undefined when there is none.
 */
export function takeSignInCode(win: Pick<Window, 'location' | 'history'>): string | undefined {
  const code = codeFromHash(win.location.hash);
  if (code) win.history.replaceState(null, '', win.location.pathname + win.location.search);
  return code;
}

/** Exchanges a sign-in code for a session token; throws an ApiError with the server's reason. */
export async function exchangeSignInCode(code: string, fetchImpl: typeof fetch = fetch): Promise<string> {
  let res: Response;
  try {
    res = await fetchImpl('/api/v1/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code }),
    });
  } catch (err) {
    throw new ApiError(0, 'Network error', `the server could not be reached (${(err as Error).message})`);
  }
  if (!res.ok) throw await problemFrom(res);
  return ((await res.json()) as { token: string }).token;
}
