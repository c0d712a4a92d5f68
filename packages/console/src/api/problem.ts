/**
 * Errors the console shows. The API answers failures as RFC 9457 problem+json; anything else
 * (network down, a proxy's HTML page) becomes an ApiError too, so pages handle one type.
 */
import type { ValidationError } from '@trellis/core';

export type ApiErrorKind = 'network' | 'unauthorized' | 'forbidden' | 'not_found' | 'conflict' | 'invalid' | 'server';

export class ApiError extends Error {
  readonly status: number;
  readonly kind: ApiErrorKind;
  readonly title: string;
  /** The compiler's problems, for 422 on a definition. */
  readonly errors: ValidationError[];

  constructor(status: number, title: string, detail: string, errors: ValidationError[] = []) {
    super(detail || title);
    this.name = 'ApiError';
    this.status = status;
    this.title = title;
    this.errors = errors;
    this.kind = kindOf(status);
  }
}

function kindOf(status: number): ApiErrorKind {
  if (status === 0) return 'network';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status === 400 || status === 413 || status === 422) return 'invalid';
  return 'server';
}

/** Builds an ApiError from a failed response, reading problem+json when there is one. */
export async function problemFrom(res: Response): Promise<ApiError> {
  let body: unknown;
  try {
    const text = await res.text();
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const p = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const title = typeof p.title === 'string' ? p.title : res.statusText || `HTTP ${res.status}`;
  const detail = typeof p.detail === 'string' ? p.detail : typeof p.message === 'string' ? p.message : title;
  const errors = Array.isArray(p.errors) ? (p.errors as ValidationError[]) : [];
  return new ApiError(res.status, title, detail, errors);
}

/** A one-line, human message for any error, for banners. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.kind === 'network') return `Cannot reach the Trellis server: ${err.message}`;
    if (err.kind === 'unauthorized') return 'Your token was not accepted. Sign in again.';
    if (err.kind === 'forbidden') return `Not allowed: ${err.message}`;
    return err.message === err.title ? err.message : `${err.title}: ${err.message}`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A 404 on a collection: the server does not serve that part of the API (e.g. no registry). */
export function isMissingRoute(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404;
}
