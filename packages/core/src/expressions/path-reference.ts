/**
 * Plain references: a string that is exactly `$<name>` followed by `.field`, `[index]` or
 * `["key"]` steps. These are the overwhelmingly common binding, so they are parsed by hand and
 * resolved by a direct walk: no JSONata parse at compile time, no JSONata evaluation at run time.
 */

/** One step of a reference path: an object key or an array index. */
export type PathStep = string | number;

export interface PathReference {
  /** The variable: a node id or `context`. */
  readonly variable: string;
  readonly steps: readonly PathStep[];
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_CHAR = /[A-Za-z0-9_]/;
const FIELD_CHAR = /[A-Za-z0-9_-]/;

/**
 * Parses `$name.a[0]["b c"]`. Returns undefined for anything else, so `"$5"`, `"costs $5"` or
 * `"$a.b and more"` are not references (they are literal text).
 */
export function parsePathReference(src: string): PathReference | undefined {
  if (src.length < 2 || src.charCodeAt(0) !== 36 /* $ */ || !IDENT_START.test(src[1] as string)) return undefined;
  let i = 2;
  while (i < src.length && IDENT_CHAR.test(src[i] as string)) i++;
  const variable = src.slice(1, i);
  const steps: PathStep[] = [];
  while (i < src.length) {
    const c = src[i];
    if (c === '.') {
      const start = ++i;
      while (i < src.length && FIELD_CHAR.test(src[i] as string)) i++;
      if (i === start) return undefined;
      steps.push(src.slice(start, i));
    } else if (c === '[') {
      const close = src.indexOf(']', i);
      if (close < 0) return undefined;
      const inner = src.slice(i + 1, close);
      if (/^\d{1,9}$/.test(inner)) steps.push(Number(inner));
      else if (inner.length >= 2 && (inner[0] === '"' || inner[0] === "'") && inner.at(-1) === inner[0]) {
        const key = inner.slice(1, -1);
        if (key.includes(inner[0] as string)) return undefined;
        steps.push(key);
      } else return undefined;
      i = close + 1;
    } else return undefined;
  }
  return { variable, steps };
}

/**
 * Follows `steps` from `root`. A step into something that is not an object/array, or a key that
 * is absent, yields `undefined` (the caller decides how to present it). Only own properties are
 * followed, so `__proto__` or `constructor` never reach a prototype.
 */
export function walkPath(root: unknown, steps: readonly PathStep[]): unknown {
  let cur: unknown = root;
  for (const step of steps) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (typeof step === 'number') {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[step];
    } else {
      if (!Object.hasOwn(cur, step)) return undefined;
      cur = (cur as Record<string, unknown>)[step];
    }
  }
  return cur;
}
