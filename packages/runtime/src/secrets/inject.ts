/**
 * Putting secret values into a request at the last moment. The resolved input the runner
 * stores holds `[secret:NAME]` placeholders; the real strings are rebuilt here from the node's
 * definition (text and `{{ $secrets.NAME }}` parts, other `{{ }}` parts rendered as the runner
 * did), never by searching the resolved input for placeholders — a value that arrived through a
 * binding cannot smuggle in a secret reference.
 */
import { type ExecutorContext, type SecretTemplatePart, splitSecretTemplate } from '@trellis/core';
import type { SecretRedactor } from './redactor.ts';
import type { SecretSource } from './source.ts';

/** Renders a header-template map (a registration's `headers`) with global secrets. */
export async function renderRegistrationHeaders(
  headers: Readonly<Record<string, string>> | undefined,
  secrets: SecretSource,
  redactor?: SecretRedactor,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    const parts = splitSecretTemplate(v);
    out[k] = parts
      ? await renderParts(parts, async (name) => remember(redactor, name, await secrets.forRegistration(name)), undefined)
      : v;
  }
  return out;
}

/**
 * The value a definition string takes with its secrets in: secret parts are fetched with
 * `reveal` (and URL-encoded when `encode`), other expression parts rendered with `render`.
 */
export async function renderParts(
  parts: readonly SecretTemplatePart[],
  reveal: (name: string) => Promise<string>,
  render: ((template: string) => Promise<string>) | undefined,
  encode = false,
): Promise<string> {
  let out = '';
  for (const p of parts) {
    if (p.kind === 'text') out += p.text;
    else if (p.kind === 'secret') {
      const v = await reveal(p.name);
      out += encode ? encodeURIComponent(v) : v;
    } else if (render) out += await render(`{{ ${p.source} }}`);
  }
  return out;
}

/** The secret-bearing parts of an `http.request` node's definition: its URL and header templates. */
export interface HttpSecretPlan {
  url: SecretTemplatePart[] | undefined;
  headers: [string, SecretTemplatePart[]][];
}

export function httpSecretPlan(ctx: ExecutorContext): HttpSecretPlan | undefined {
  const input = ctx.node.input as Record<string, unknown> | undefined;
  if (!input || typeof input !== 'object') return undefined;
  const url = typeof input.url === 'string' ? splitSecretTemplate(input.url) : undefined;
  const headers: [string, SecretTemplatePart[]][] = [];
  const h = input.headers;
  if (h && typeof h === 'object' && !Array.isArray(h)) {
    for (const [k, v] of Object.entries(h)) {
      const parts = typeof v === 'string' ? splitSecretTemplate(v) : undefined;
      if (parts) headers.push([k, parts]);
    }
  }
  return url || headers.length > 0 ? { url, headers } : undefined;
}

function remember(redactor: SecretRedactor | undefined, name: string, value: string): string {
  redactor?.add(name, value);
  return value;
}

/** Fetches a run's secret and registers it with the redactor before anyone sees a response. */
export function runSecretReveal(
  secrets: SecretSource,
  ctx: ExecutorContext,
  redactor: SecretRedactor,
): (name: string) => Promise<string> {
  return async (name) => remember(redactor, name, await secrets.forRun(name, ctx.runId));
}
