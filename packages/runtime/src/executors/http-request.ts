/**
 * The built-in tool `http.request` (SPEC §1): one HTTP call through the outbound guard.
 * Input `{ method?, url, headers?, body?, timeoutMs? }`, output `{ status, headers, body }` with a
 * JSON body parsed. 5xx, 429 (Retry-After honoured), timeouts and network errors are retryable;
 * other 4xx are not. Every request carries `Idempotency-Key: <runId>:<nodeId>:<attempt>` so the
 * remote side can deduplicate the at-least-once retries of a restarted worker.
 */
import type { ExecutionResult, Executor, ExecutorContext } from '@trellis/core';
import { TrellisError } from '@trellis/core';
import { z } from 'zod';
import type { OutboundGuard } from '../outbound/guard.ts';
import { httpSecretPlan, renderParts, runSecretReveal } from '../secrets/inject.ts';
import { SecretRedactor } from '../secrets/redactor.ts';
import { fetchKeepingSecretsHome } from '../secrets/redirects.ts';
import { NO_SECRETS, type SecretSource } from '../secrets/source.ts';
import { traceHeadersFor } from '../tracing/propagation.ts';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export const httpRequestInputSchema = z
  .object({
    method: z
      .string()
      .transform((m) => m.toUpperCase())
      .pipe(z.enum(HTTP_METHODS))
      .optional(),
    url: z.string().min(1),
    headers: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    body: z.unknown().optional(),
    timeoutMs: z.number().int().min(1).max(3_600_000).optional(),
  })
  .strict();
export type HttpRequestInput = z.input<typeof httpRequestInputSchema>;

export interface HttpRequestOutput {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface HttpRequestExecutorOptions {
  guard: OutboundGuard;
  /** Used when the input sets no `timeoutMs` (default 30 s). */
  defaultTimeoutMs?: number;
  /** Largest response body kept, in bytes (default 10 MiB); larger fails with OUTPUT_TOO_LARGE. */
  maxResponseBytes?: number;
  /**
   * Where `{{ $secrets.NAME }}` in the node's header values and URL query get their values, at
   * the last moment; responses and errors are then redacted to `[secret:NAME]`.
   */
  secrets?: SecretSource;
}

export function createHttpRequestExecutor(options: HttpRequestExecutorOptions): Executor {
  const defaultTimeoutMs = options.defaultTimeoutMs ?? 30_000;
  const maxBytes = options.maxResponseBytes ?? 10 * 1024 * 1024;
  return {
    async execute(rawInput: unknown, ctx: ExecutorContext): Promise<ExecutionResult> {
      const parsed = httpRequestInputSchema.safeParse(rawInput);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
        throw new TrellisError('INPUT_INVALID', `http.request input is invalid: ${issues}`, { category: 'user' });
      }
      const input = parsed.data;
      const plan = httpSecretPlan(ctx);
      if (!plan) return send(input, input.url, input.headers, ctx);
      // Secrets: the stored input holds placeholders; the request gets the values, and nothing
      // that comes back leaves this function unredacted.
      const redactor = new SecretRedactor();
      try {
        const reveal = runSecretReveal(options.secrets ?? NO_SECRETS, ctx, redactor);
        const url = plan.url ? await renderParts(plan.url, reveal, ctx.renderTemplate, true) : input.url;
        const headers: Record<string, string | number | boolean> = { ...input.headers };
        for (const [k, parts] of plan.headers) headers[k] = await renderParts(parts, reveal, ctx.renderTemplate);
        const result = await send(
          input,
          url,
          headers,
          ctx,
          plan.headers.map(([k]) => k),
        );
        return result.kind === 'succeeded' ? { ...result, output: redactor.value(result.output) } : result;
      } catch (err) {
        throw redactor.error(err);
      }
    },
  };

  async function send(
    input: z.output<typeof httpRequestInputSchema>,
    url: string,
    headerValues: Record<string, string | number | boolean> | undefined,
    ctx: ExecutorContext,
    secretHeaders: readonly string[] = [],
  ): Promise<ExecutionResult> {
    const method = input.method ?? 'GET';
    const headers = new Headers();
    for (const [k, v] of Object.entries(headerValues ?? {})) headers.set(k, String(v));
    headers.set('idempotency-key', ctx.idempotencyKey);
    // W3C trace context of this attempt's span, when runs are traced (a caller's own wins).
    for (const [k, v] of Object.entries(traceHeadersFor(ctx))) if (!headers.has(k)) headers.set(k, v);
    let body: string | undefined;
    if (input.body !== undefined && input.body !== null && method !== 'GET' && method !== 'HEAD') {
      if (typeof input.body === 'string') body = input.body;
      else {
        body = JSON.stringify(input.body);
        if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      }
    }
    const timeoutMs = input.timeoutMs ?? defaultTimeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([ctx.signal, timeout]);
    let res: Response;
    let text: string;
    try {
      res =
        secretHeaders.length > 0
          ? await fetchKeepingSecretsHome(options.guard, url, { method, headers, body, signal }, secretHeaders)
          : await options.guard.fetch(url, { method, headers, body, signal });
      text = await readLimited(res, maxBytes);
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      if (timeout.aborted) {
        throw TrellisError.retryable('TIMEOUT', `${method} ${input.url} took longer than ${timeoutMs} ms`, {
          category: 'remote',
        });
      }
      if (err instanceof TrellisError) throw err;
      const cause = (err as Error).cause as Error | undefined;
      const why = cause?.message ?? (err as Error).message;
      throw TrellisError.retryable('NETWORK_ERROR', `${method} ${input.url} failed: ${why}`, {
        category: 'remote',
        cause: err,
      });
    }
    const output: HttpRequestOutput = {
      status: res.status,
      headers: Object.fromEntries(res.headers.entries()),
      body: parseBody(text, res.headers.get('content-type')),
    };
    if (res.status >= 400) throw httpError(method, input.url, output, res.headers.get('retry-after'));
    return { kind: 'succeeded', output };
  }
}

async function readLimited(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new TrellisError('OUTPUT_TOO_LARGE', `response body of ${declared} bytes exceeds the ${maxBytes} byte limit`);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new TrellisError('OUTPUT_TOO_LARGE', `response body exceeds the ${maxBytes} byte limit`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string, contentType: string | null): unknown {
  if (text === '') return null;
  if (contentType && /[/+]json\b/i.test(contentType)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** Retry-After is either seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function httpError(method: string, url: string, output: HttpRequestOutput, retryAfter: string | null): TrellisError {
  const { status } = output;
  const retryable = status >= 500 || status === 429 || status === 408;
  const snippet = typeof output.body === 'string' ? output.body.slice(0, 200) : JSON.stringify(output.body)?.slice(0, 200);
  return new TrellisError(`HTTP_${status}`, `${method} ${url} answered ${status}${snippet ? `: ${snippet}` : ''}`, {
    category: status >= 500 || status === 429 ? 'remote' : 'user',
    retryable,
    retryAfterMs: retryable ? parseRetryAfter(retryAfter) : undefined,
    details: { status, headers: output.headers, body: output.body },
  });
}
