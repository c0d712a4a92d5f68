/**
 * Errors as `application/problem+json` (RFC 9457). A route throws `HttpProblem` for every
 * expected failure (bad input, no rights, unknown id, conflict); the app's error boundary
 * (`toProblem`) maps everything else — Fastify's own client errors keep their 4xx status,
 * anything unknown becomes a 500 that carries the request id and never a stack trace.
 */
import { ERROR_CATALOGUE, type ErrorCode, errorEntry, TrellisError, type ValidationError } from '@trellis/core';

/**
 * A code a route may answer with: any code of the error catalogue (`ERROR_CATALOGUE` in the
 * core), which also gives its HTTP status. There is no second table of codes here.
 */
export type ProblemCode = ErrorCode;

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The body of every error response. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** A stable code of the error catalogue a client can switch on. */
  code: string;
  instance?: string;
  requestId?: string;
  /** Validation failures: the compiler's problems (SPEC §2) or the request's schema problems. */
  errors?: ValidationError[];
}

/** An expected HTTP failure; thrown by routes, rendered by the error boundary. */
export class HttpProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors: ValidationError[] | undefined;
  readonly headers: Record<string, string>;

  constructor(
    code: ProblemCode,
    detail: string,
    options: { errors?: ValidationError[] | undefined; headers?: Record<string, string>; status?: number } = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
    this.code = code;
    this.status = options.status ?? ERROR_CATALOGUE[code].status;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }
}

export function titleFor(status: number): string {
  return TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
}

export function problemBody(status: number, code: string, detail: string, extra: Partial<ProblemBody> = {}): ProblemBody {
  return {
    type: `https://trellis.dev/problems/${code.toLowerCase().replaceAll('_', '-')}`,
    title: titleFor(status),
    status,
    detail,
    code,
    ...extra,
  };
}

/** Retry-After in seconds: the error's own hint, else one second. */
function retryAfter(err: TrellisError): string {
  return String(Math.max(1, Math.ceil((err.retryAfterMs ?? 1000) / 1000)));
}

/** Fastify's client-error codes we know how to name. */
const FASTIFY_CODES: Record<string, ProblemCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'BAD_REQUEST',
};

/**
 * The error boundary: anything thrown while handling a request → status, headers and body.
 * `expose` is false for unknown errors: their message may carry internals, so the client gets a
 * generic detail plus the request id to quote, and the full error goes to the log.
 */
export function toProblem(err: unknown): { status: number; body: ProblemBody; headers: Record<string, string>; expose: boolean } {
  if (err instanceof HttpProblem) {
    return {
      status: err.status,
      body: problemBody(err.status, err.code, err.message, err.errors ? { errors: err.errors } : {}),
      headers: err.headers,
      expose: true,
    };
  }
  // A TrellisError answers with its code's status from the catalogue. Its message is shown when
  // it is the user's to act on, or when the system is briefly unavailable (503: retry later);
  // anything else is an internal error (below).
  if (err instanceof TrellisError) {
    const { status } = errorEntry(err.code);
    if (err.category === 'user' || status === 503) {
      const errors = Array.isArray(err.details) ? (err.details as ValidationError[]) : undefined;
      const headers: Record<string, string> = status === 503 || status === 429 ? { 'retry-after': retryAfter(err) } : {};
      return { status, body: problemBody(status, err.code, err.message, errors ? { errors } : {}), headers, expose: true };
    }
  }
  const e = err as { statusCode?: unknown; code?: unknown; message?: unknown } | undefined;
  const statusCode = typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
    const known = typeof e?.code === 'string' ? FASTIFY_CODES[e.code] : undefined;
    const code =
      known ?? (statusCode === 413 ? 'PAYLOAD_TOO_LARGE' : statusCode === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'BAD_REQUEST');
    const detail = typeof e?.message === 'string' && e.message ? e.message : titleFor(statusCode);
    return { status: statusCode, body: problemBody(statusCode, code, detail), headers: {}, expose: true };
  }
  return {
    status: 500,
    body: problemBody(500, 'INTERNAL', 'an unexpected error occurred; the server log has the details under this request id'),
    headers: {},
    expose: false,
  };
}
