/**
 * The one door for outbound HTTP: A2A calls, MCP over Streamable HTTP and `http.request` all go
 * through `guard.fetch`. It resolves the host itself, refuses addresses the policy forbids and
 * hands the *checked* address to the socket (undici `connect.lookup`), so a DNS answer that
 * changes between check and connect (DNS rebinding) cannot slip through. Redirects are followed
 * by hand so that every hop is checked. A redirect to another origin carries only an allow-list
 * of harmless headers (no credentials, API keys or session ids, whatever their names) and never
 * a request body: a 307/308 of a request with a body to another origin fails the call.
 * Refusals name the host, never the addresses it resolved to (run records are read by people
 * who should not learn the internal network's layout).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { TrellisError } from '@trellis/core';
import type * as Undici from 'undici';
import { lazyModule } from '../lazy-module.ts';
import { type AllowList, isHostAllowed, parseAllowList, refusalReason } from './address-policy.ts';

/** undici is loaded on the first outbound call (a process that never calls out never loads it). */
const undici = lazyModule<typeof Undici>('undici');

/** Resolves a host name to its addresses (replaceable in tests; defaults to the OS resolver). */
export type HostResolver = (hostname: string) => Promise<LookupAddress[]>;

export interface OutboundGuardOptions {
  /** Host names, `*.domain`, IPs and CIDRs that may be reached although not public. */
  allowHosts?: readonly string[];
  resolve?: HostResolver;
  /** Redirect hops followed at most (default 5). */
  maxRedirects?: number;
}

export interface OutboundGuard {
  /** A `fetch` that only reaches allowed addresses; hand it to SDK clients. */
  readonly fetch: typeof fetch;
  /** Checks scheme and, for a literal IP host, the address. Throws `OUTBOUND_BLOCKED`. */
  checkUrl(url: string | URL): URL;
  /** Resolves and checks a URL's host as a connection would. Throws `OUTBOUND_BLOCKED`. */
  checkHost(url: string | URL): Promise<LookupAddress[]>;
  close(): Promise<void>;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/**
 * The only request headers that follow a redirect to another origin. Anything else may be a
 * credential under any name (X-Api-Key, X-Auth-Token, a session id), so it stays behind.
 */
export const CROSS_ORIGIN_HEADERS: readonly string[] = ['accept', 'accept-language', 'cache-control', 'pragma', 'user-agent'];

const osResolve: HostResolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });

function blocked(message: string): TrellisError {
  return new TrellisError('OUTBOUND_BLOCKED', message, { category: 'user' });
}

const ALLOW_HINT = 'add the host or its network to TRELLIS_ALLOW_HOSTS to allow it';

export function createOutboundGuard(options: OutboundGuardOptions = {}): OutboundGuard {
  const list: AllowList = parseAllowList(options.allowHosts ?? []);
  const resolve = options.resolve ?? osResolve;
  const maxRedirects = options.maxRedirects ?? 5;

  async function allowedAddresses(hostname: string): Promise<LookupAddress[]> {
    const host = hostname.replace(/^\[|\]$/g, '');
    let addresses: LookupAddress[];
    try {
      addresses = await resolve(host);
    } catch (err) {
      throw TrellisError.retryable('NETWORK_ERROR', `cannot resolve ${host}: ${(err as Error).message}`, { category: 'remote' });
    }
    if (isHostAllowed(list, host)) return addresses;
    const ok = addresses.filter((a) => refusalReason(list, a.address) === undefined);
    if (ok.length === 0) {
      // The addresses themselves stay out of the message: whoever reads the run must not learn
      // the internal network's layout from it.
      throw blocked(
        addresses.length === 0
          ? `refused to connect to ${host}: it resolves to no address`
          : `refused to connect to ${host}: it resolves only to private, loopback or otherwise non-public addresses; ${ALLOW_HINT}`,
      );
    }
    return ok;
  }

  // Called by the socket for every connection to a host name: the address it returns is the one
  // connected to, and it is always one that passed the policy.
  const lookup = (
    hostname: string,
    opts: { all?: boolean },
    callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    allowedAddresses(hostname).then(
      (addresses) => {
        const first = addresses[0] as LookupAddress;
        if (opts.all) callback(null, addresses);
        else callback(null, first.address, first.family);
      },
      (err: Error) => callback(err, ''),
    );
  };

  let agent: Undici.Agent | undefined;
  const dispatcher = (): Undici.Agent => {
    agent ??= new (undici().Agent)({ connect: { lookup: lookup as never } });
    return agent;
  };

  function checkUrl(input: string | URL): URL {
    let url: URL;
    try {
      url = new URL(String(input));
    } catch {
      throw new TrellisError('INPUT_INVALID', `"${String(input)}" is not a valid URL`, { category: 'user' });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw blocked(`refused ${url.protocol} URL ${url.href}: only http and https are allowed`);
    }
    if (url.username || url.password) {
      throw blocked(`refused ${url.origin}: credentials in the URL are not allowed; pass them in a header`);
    }
    // The URL parser has already normalised 0x7f.1, 2130706433 and [::ffff:a9fe:a9fe] forms.
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (/^[0-9a-f:.]+$/i.test(host) && (host.includes(':') || /^[0-9.]+$/.test(host))) {
      const why = refusalReason(list, host);
      if (why !== undefined) throw blocked(`refused to connect to ${url.host}: ${why}; ${ALLOW_HINT}`);
    }
    return url;
  }

  async function checkHost(input: string | URL): Promise<LookupAddress[]> {
    const url = checkUrl(input);
    return allowedAddresses(url.hostname);
  }

  const guardedFetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    let url: URL;
    let method: string;
    let headers: Headers;
    let body: BodyInit | null | undefined;
    let signal = init.signal ?? undefined;
    if (input instanceof Request) {
      url = checkUrl(input.url);
      method = (init.method ?? input.method).toUpperCase();
      headers = new Headers(init.headers ?? input.headers);
      body = init.body ?? (method === 'GET' || method === 'HEAD' ? undefined : await input.arrayBuffer());
      signal = signal ?? input.signal;
    } else {
      url = checkUrl(input);
      method = (init.method ?? 'GET').toUpperCase();
      headers = new Headers(init.headers);
      body = init.body;
    }
    const mode = init.redirect ?? 'follow';
    for (let hop = 0; ; hop++) {
      checkUrl(url);
      let res: Response;
      try {
        res = (await undici().fetch(url, {
          ...(init as object),
          method,
          headers: Object.fromEntries(headers.entries()),
          body: body as never,
          signal,
          redirect: 'manual',
          dispatcher: dispatcher(),
        })) as unknown as Response;
      } catch (err) {
        throw unwrapBlocked(err);
      }
      const location = res.headers.get('location');
      if (!REDIRECT_STATUSES.has(res.status) || location === null || mode === 'manual') return res;
      await res.body?.cancel().catch(() => undefined);
      if (mode === 'error') throw new TrellisError('HTTP_ERROR', `${url.href} redirected and redirects are not allowed here`);
      if (hop >= maxRedirects)
        throw blocked(`${input instanceof Request ? input.url : String(input)} redirected more than ${maxRedirects} times`);
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new TrellisError('HTTP_ERROR', `${url.origin} redirected to an invalid URL`, { category: 'remote' });
      }
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        body = undefined;
        headers.delete('content-type');
        headers.delete('content-length');
      }
      if (next.origin !== url.origin) {
        if (body !== undefined && body !== null)
          throw blocked(
            `${url.origin} answered ${res.status} redirecting the ${method} request to another origin (${next.origin}); a request body is never sent to another origin — call ${next.origin} directly if that is intended`,
          );
        for (const name of [...headers.keys()]) if (!CROSS_ORIGIN_HEADERS.includes(name)) headers.delete(name);
      }
      url = next;
    }
  };

  return {
    fetch: guardedFetch as typeof fetch,
    checkUrl,
    checkHost,
    close: async () => {
      await agent?.close();
    },
  };
}

/** undici wraps connection errors as `TypeError('fetch failed', { cause })`; surface our refusal. */
function unwrapBlocked(err: unknown): unknown {
  let e: unknown = err;
  for (let i = 0; i < 5 && e instanceof Error; i++) {
    if (e instanceof TrellisError) return e;
    e = e.cause;
  }
  return err;
}
