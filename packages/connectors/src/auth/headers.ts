/**
 * Headers of agent and tool-server registrations: stored as templates (`Bearer {{ $secrets.NAME }}`),
 * rendered with global secrets only when a request is about to leave — on the agent-card fetch,
 * every A2A call and every MCP connection — and never written back rendered. Every value rendered
 * is remembered by the registry's redactor, so what the remote side echoes back (a body, an error)
 * is shown as `[secret:NAME]`.
 */
import { splitSecretTemplate, TrellisError } from '@trellis/core';
import { NO_SECRETS, renderRegistrationHeaders, SecretRedactor, type SecretSource } from '@trellis/runtime';

export type HeaderTemplates = Record<string, string>;

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;
/** Set by the transport itself; a registration may not override them. */
const RESERVED = new Set([
  'host',
  'content-length',
  'content-type',
  'connection',
  'transfer-encoding',
  'mcp-session-id',
  'accept',
]);

/**
 * Checks registration headers: valid names, at most 20, string values whose `{{ }}` parts are
 * only `$secrets.NAME` (SECRET_NOT_ALLOWED_HERE otherwise). Returns them unchanged.
 */
export function checkHeaderTemplates(headers: unknown): HeaderTemplates {
  if (headers === undefined || headers === null) return {};
  if (typeof headers !== 'object' || Array.isArray(headers)) {
    throw new TrellisError('INPUT_INVALID', '"headers" is an object of header name → value', { category: 'user' });
  }
  const entries = Object.entries(headers as Record<string, unknown>);
  if (entries.length > 20) throw new TrellisError('INPUT_INVALID', 'at most 20 headers', { category: 'user' });
  for (const [name, value] of entries) {
    if (!HEADER_NAME.test(name)) {
      throw new TrellisError('INPUT_INVALID', `"${name.slice(0, 100)}" is not a valid header name`, { category: 'user' });
    }
    if (RESERVED.has(name.toLowerCase())) {
      throw new TrellisError('INPUT_INVALID', `header ${name} is set by Trellis itself and cannot be registered`, {
        category: 'user',
      });
    }
    if (typeof value !== 'string' || value.length > 8192) {
      throw new TrellisError('INPUT_INVALID', `header ${name}: the value is a string of at most 8192 characters`, {
        category: 'user',
      });
    }
    if (value.includes('{{')) {
      const parts = splitSecretTemplate(value);
      if (!parts || parts.some((p) => p.kind === 'expr')) {
        throw new TrellisError(
          'SECRET_NOT_ALLOWED_HERE',
          `header ${name}: a registration header may hold text and {{ $secrets.NAME }} references only, e.g. "Bearer {{ $secrets.AGENT_TOKEN }}"`,
          { category: 'user' },
        );
      }
    }
  }
  return headers as HeaderTemplates;
}

/** Renders templates into the headers to send, remembering every value in `redactor`. */
export function renderHeaders(
  templates: HeaderTemplates | undefined,
  secrets: SecretSource | undefined,
  redactor: SecretRedactor,
): Promise<Record<string, string>> {
  return renderRegistrationHeaders(templates, secrets ?? NO_SECRETS, redactor);
}

/** A fetch that adds `headers` to every request (they win over what the caller set). */
export function fetchWithHeaders(base: typeof fetch, headers: Record<string, string>): typeof fetch {
  if (Object.keys(headers).length === 0) return base;
  return ((input: string | URL | Request, init?: RequestInit) => {
    const h = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    for (const [k, v] of Object.entries(headers)) h.set(k, v);
    return base(input, { ...init, headers: h });
  }) as typeof fetch;
}

/** Redacts what an executor returns or throws with everything `redactor` has seen. */
export async function redacting<T>(redactor: SecretRedactor, fn: () => Promise<T>): Promise<T> {
  try {
    const out = await fn();
    return redactor.empty ? out : redactor.value(out);
  } catch (err) {
    throw redactor.error(err);
  }
}

export { SecretRedactor };
