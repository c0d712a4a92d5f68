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

// Character classes by code, not by regex: this runs for every binding string of a definition.
const isIdentStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isIdentChar = (c: number) => isIdentStart(c) || (c >= 48 && c <= 57);
const isFieldChar = (c: number) => isIdentChar(c) || c === 45; /* - */

/**
 * Parses `$name.a[0]["b c"]`. Returns undefined for anything else, so `"$5"`, `"costs $5"` or
 * `"$a.b and more"` are not references (they are literal text).
 */
export function parsePathReference(src: string): PathReference | undefined {
  if (src.length < 2 || src.charCodeAt(0) !== 36 /* $ */ || !isIdentStart(src.charCodeAt(1))) return undefined;
  let i = 2;
  while (i < src.length && isIdentChar(src.charCodeAt(i))) i++;
  const variable = src.slice(1, i);
  const steps: PathStep[] = [];
  while (i < src.length) {
    const c = src[i];
    if (c === '.') {
      const start = ++i;
      while (i < src.length && isFieldChar(src.charCodeAt(i))) i++;
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
 * The variable of a plain reference, or undefined when `src` is not one: the same grammar as
 * `parsePathReference` without building the steps (the compiler only needs the name).
 */
export function referenceVariable(src: string): string | undefined {
  if (src.length < 2 || src.charCodeAt(0) !== 36 /* $ */ || !isIdentStart(src.charCodeAt(1))) return undefined;
  let i = 2;
  while (i < src.length && isIdentChar(src.charCodeAt(i))) i++;
  const end = i;
  while (i < src.length) {
    const c = src.charCodeAt(i);
    if (c === 46 /* . */) {
      const start = ++i;
      while (i < src.length && isFieldChar(src.charCodeAt(i))) i++;
      if (i === start) return undefined;
    } else if (c === 91 /* [ */) {
      const close = src.indexOf(']', i);
      if (close < 0) return undefined;
      let digits = true;
      for (let k = i + 1; k < close; k++) {
        const d = src.charCodeAt(k);
        if (d < 48 || d > 57) {
          digits = false;
          break;
        }
      }
      // Quoted keys are rare: let the full parser judge them.
      if (!digits || close === i + 1 || close - i - 1 > 9) return parsePathReference(src)?.variable;
      i = close + 1;
    } else return undefined;
  }
  return src.slice(1, end);
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
