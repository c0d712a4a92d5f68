/**
 * Errors as `application/problem+json` (RFC 9457). A route throws `HttpProblem` for every
 * expected failure (bad input, no rights, unknown id, conflict); the app's error boundary
 * (`toProblem`) maps everything else — Fastify's own client errors keep their 4xx status,
 * anything unknown becomes a 500 that carries the request id and never a stack trace.
 */
import { TrellisError, type ValidationError } from '@trellis/core';

/** Stable problem codes, one per kind of failure a client can act on. */
export const PROBLEM_CODES = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  SIGN_IN_CODE_INVALID: 401,
  SIGN_IN_CODE_EXPIRED: 401,
  SIGN_IN_CODE_USED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  GONE: 410,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UPGRADE_REQUIRED: 426,
  UNSUPPORTED_MEDIA_TYPE: 415,
  DEFINITION_INVALID: 422,
  INPUT_INVALID: 422,
  PERMISSIONS_INVALID: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const satisfies Record<string, number>;
export type ProblemCode = keyof typeof PROBLEM_CODES;

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
  /** A stable code (PROBLEM_CODES) a client can switch on. */
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
    this.status = options.status ?? PROBLEM_CODES[code];
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

/** HTTP status of the user-category TrellisError codes that are not plain 400s. */
const USER_ERROR_STATUS: Record<string, number> = {
  INPUT_INVALID: 422,
  FORBIDDEN: 403,
  CONFLICT: 409,
  NOT_FOUND: 404,
  AGENT_NOT_FOUND: 404,
  TOOL_NOT_FOUND: 404,
  // Retries (docs/retry.md)
  RUN_NOT_FOUND: 404,
  RUN_NOT_FINISHED: 409,
  NOTHING_TO_RERUN: 409,
  WORKFLOW_DELETED: 409,
  RETRY_UNKNOWN_NODE: 422,
  // Builder test runs (docs/console.md)
  TEST_NEEDS_RUN: 409,
  TEST_UNKNOWN_NODE: 422,
  TEST_SUBWORKFLOW: 422,
};

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
  if (err instanceof TrellisError && err.category === 'user') {
    const status = USER_ERROR_STATUS[err.code] ?? 400;
    const errors = Array.isArray(err.details) ? (err.details as ValidationError[]) : undefined;
    return { status, body: problemBody(status, err.code, err.message, errors ? { errors } : {}), headers: {}, expose: true };
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
