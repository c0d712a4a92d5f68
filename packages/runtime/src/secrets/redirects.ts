/**
 * Redirects of a request that carries secrets. The outbound guard drops `Authorization`,
 * `Cookie` and `Proxy-Authorization` when a redirect leaves the origin; a secret may sit in any
 * header (`X-Api-Key: {{ $secrets.KEY }}`), so such a request follows its redirects here: hops
 * within the origin keep the headers, the first hop to another origin loses every header that
 * carries a secret (and goes on through the guard's own redirect handling from there).
 */
import type { OutboundGuard } from '../outbound/guard.ts';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export async function fetchKeepingSecretsHome(
  guard: OutboundGuard,
  url: string,
  init: RequestInit & { headers: Headers },
  secretHeaders: readonly string[],
  maxRedirects = 5,
): Promise<Response> {
  let current = new URL(url);
  let method = (init.method ?? 'GET').toUpperCase();
  let body = init.body;
  const headers = new Headers(init.headers);
  for (let hop = 0; ; hop++) {
    const res = await guard.fetch(current, { ...init, method, body, headers, redirect: 'manual' });
    const location = res.headers.get('location');
    if (!REDIRECTS.has(res.status) || location === null || hop >= maxRedirects) return res;
    await res.body?.cancel().catch(() => undefined);
    const next = new URL(location, current);
    if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
      method = method === 'HEAD' ? 'HEAD' : 'GET';
      body = undefined;
      headers.delete('content-type');
    }
    if (next.origin !== current.origin) {
      for (const h of secretHeaders) headers.delete(h);
      return guard.fetch(next, { ...init, method, body, headers, redirect: 'follow' });
    }
    current = next;
  }
}
