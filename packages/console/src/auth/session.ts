/**
 * The signed-in session: an API token kept in localStorage. `trellis serve` prints a one-time
 * link `http://HOST:PORT/#token=<token>`; the token is taken from the hash, stored, and removed
 * from the address bar at once so it does not linger in history or screenshots.
 */
const KEY = 'trellis.token';

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Returns the token in a `#token=…` hash, or undefined. */
export function tokenFromHash(hash: string): string | undefined {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const t = params.get('token')?.trim();
  return t ? t : undefined;
}

export function loadToken(storage: StorageLike): string | undefined {
  try {
    return storage.getItem(KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

export function saveToken(storage: StorageLike, token: string): void {
  storage.setItem(KEY, token);
}

export function clearToken(storage: StorageLike): void {
  storage.removeItem(KEY);
}

/**
 * Takes a token from the page's hash if there is one (storing it and cleaning the URL),
 * else the remembered one.
 */
export function bootstrapToken(win: Pick<Window, 'location' | 'history' | 'localStorage'>): string | undefined {
  const fromHash = tokenFromHash(win.location.hash);
  if (fromHash) {
    saveToken(win.localStorage, fromHash);
    win.history.replaceState(null, '', win.location.pathname + win.location.search);
    return fromHash;
  }
  return loadToken(win.localStorage);
}
