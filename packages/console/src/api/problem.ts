/**
 * Errors the console shows. The API answers failures as RFC 9457 problem+json; anything else
 * (network down, a proxy's HTML page, a response off the schema) becomes an ApiError too, so
 * pages handle one type.
 */
import { errorFromResponse, TrellisApiError } from '@trellis/client';

export type { ApiErrorKind } from '@trellis/client';

/**
 * The error every API call throws: the typed client's TrellisApiError (status, stable `code`,
 * `kind`, the compiler's `errors` for a 422). `new ApiError(status, title, detail, errors)`.
 */
export const ApiError = TrellisApiError;
export type ApiError = TrellisApiError;

/** Builds an ApiError from a failed response, reading problem+json when there is one. */
export async function problemFrom(res: Response): Promise<ApiError> {
  return errorFromResponse(res.status, res.statusText, await res.text().catch(() => ''));
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
