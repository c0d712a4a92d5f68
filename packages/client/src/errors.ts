/**
 * The one error type the client throws: a problem+json answer of the server, a network
 * failure (status 0), or a response that does not match the API's schema.
 */
import type { ValidationError } from '@trellis/core';
import { problemSchema } from './schemas/common.ts';

/** What kind of failure, for code that only needs to branch (sign out, show "not found", …). */
export type ApiErrorKind =
  | 'network'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'invalid'
  | 'rate_limited'
  | 'unavailable'
  | 'bad_response'
  | 'server';

/** A failed API call; `code` is the server's stable problem code (or NETWORK / BAD_RESPONSE). */
export class TrellisApiError extends Error {
  /** HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  readonly kind: ApiErrorKind;
  /** The server's problem code (e.g. NOT_FOUND, DEFINITION_INVALID), NETWORK or BAD_RESPONSE. */
  readonly code: string;
  readonly title: string;
  /** The problems of a definition or request body (422/400), each with a JSON pointer path. */
  readonly errors: ValidationError[];
  /** The server's request id, to find the request in its log. */
  readonly requestId: string | undefined;

  constructor(
    status: number,
    title: string,
    detail: string,
    errors: ValidationError[] = [],
    extra: { code?: string; requestId?: string; kind?: ApiErrorKind } = {},
  ) {
    super(detail || title);
    this.name = 'TrellisApiError';
    this.status = status;
    this.title = title;
    this.errors = errors;
    this.kind = extra.kind ?? kindOf(status);
    this.code = extra.code ?? (status === 0 ? 'NETWORK' : `HTTP_${status}`);
    this.requestId = extra.requestId;
  }
}

function kindOf(status: number): ApiErrorKind {
  if (status === 0) return 'network';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 429) return 'rate_limited';
  if (status === 503) return 'unavailable';
  if (status === 400 || status === 413 || status === 422) return 'invalid';
  return 'server';
}

/** Builds the error for a failed response, reading its problem+json body when it has one. */
export function errorFromResponse(status: number, statusText: string, text: string): TrellisApiError {
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const problem = problemSchema.safeParse(body);
  if (problem.success) {
    const p = problem.data;
    // The codes are the compiler's closed set (SCHEMA for request bodies); a newer server's new
    // code passes through as it is rather than failing the parse.
    return new TrellisApiError(status, p.title, p.detail, (p.errors ?? []) as ValidationError[], {
      code: p.code,
      ...(p.requestId !== undefined ? { requestId: p.requestId } : {}),
    });
  }
  // Not a problem document (a proxy's page, an old server): keep what can be read.
  const loose = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const title = typeof loose.title === 'string' ? loose.title : statusText || `HTTP ${status}`;
  const detail = typeof loose.detail === 'string' ? loose.detail : typeof loose.message === 'string' ? loose.message : title;
  return new TrellisApiError(status, title, detail);
}
