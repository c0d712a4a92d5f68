/**
 * Response normalisers. The SPEC fixes the resources but not every envelope (a list may be a
 * bare array or a page object); these accept both so the pages see one shape.
 */
import type { Page } from './types.ts';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A list response: `[...]`, `{ items }`, `{ data }` or `{ <key> }`, with an optional cursor. */
export function toPage<T>(body: unknown, key?: string): Page<T> {
  if (Array.isArray(body)) return { items: body as T[], nextCursor: null };
  if (isObj(body)) {
    const list = body.items ?? body.data ?? (key ? body[key] : undefined) ?? body.results;
    const cursor = body.nextCursor ?? body.next_cursor ?? body.cursor ?? null;
    if (Array.isArray(list)) return { items: list as T[], nextCursor: typeof cursor === 'string' ? cursor : null };
  }
  return { items: [], nextCursor: null };
}

/** Unwraps `{ <key>: x }` when the server wraps a single resource. */
export function unwrap<T>(body: unknown, key: string): T {
  if (isObj(body) && isObj(body[key]) && !('id' in body)) return body[key] as T;
  return body as T;
}
