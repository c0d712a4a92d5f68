/**
 * Converts an expression's result to plain JSON-like data: JSONata sequences become ordinary
 * arrays (dropping its internal markers), and a function (a lambda returned as a value) is an
 * error, because outputs are stored and sent as JSON.
 */
import { TrellisError } from '../errors.ts';

const MAX_DEPTH = 1000;

export function toPlainData(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'function')
      throw new TrellisError('EXPRESSION_ERROR', 'expression returned a function; return data instead');
    return value;
  }
  if (depth > MAX_DEPTH)
    throw new TrellisError('EXPRESSION_ERROR', `expression result is nested deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = toPlainData(value[i], depth + 1);
    return out;
  }
  if (value instanceof Date) return value.toISOString();
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = toPlainData((value as Record<string, unknown>)[key], depth + 1);
    if (v === undefined) continue;
    // `__proto__` as a data key must stay data, never become the object's prototype.
    if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    else out[key] = v;
  }
  return out;
}
