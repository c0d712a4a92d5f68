// @ts-check
/**
 * The expression sandbox's worker thread: evaluates JSONata expressions sent by the pool
 * (`pool.ts`) and answers with their values. It runs under V8 `resourceLimits` (heap cap) and
 * is terminated by the pool when it overruns its hard deadline, so nothing an expression does
 * — an endless loop, `$pad` of 1e8, catastrophic regex backtracking, a huge allocation — can
 * stall or crash the server's main thread.
 *
 * Plain JavaScript on purpose: a worker starts without a TypeScript loader, in about 0.1 s, so
 * a worker the pool had to kill is replaced at once. It depends on `jsonata` only; a build that
 * compiles `src/` must ship this file next to `pool.js`.
 *
 * Inside each evaluation (the same guards as the core's in-process evaluator, plus caps):
 * - depth and a soft deadline on every evaluation step (JSONata's evaluate hooks);
 * - every intermediate value is checked when its step exits: strings longer than
 *   `maxStringLength`, arrays longer than `maxArrayLength` stop the evaluation;
 * - `$pad` refuses a width over `maxStringLength` before it allocates anything (it is the one
 *   built-in whose allocation grows with a number rather than with its inputs); `$split` and
 *   `$match` stop at `maxArrayLength + 1` parts instead of building them all;
 * - the heap in use is checked every few steps and after every large value: past half the
 *   worker's heap limit the expression stops. This keeps room for the largest single
 *   allocation a capped value can need — V8 aborts the whole process, not just the worker,
 *   when one allocation overshoots the heap limit by much.
 * - the result, converted to plain JSON data, may not exceed `maxResultBytes`.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import jsonata from 'jsonata';

/** @typedef {{ timeoutMs: number, maxDepth: number, maxSequence: number, maxStringLength: number, maxArrayLength: number, maxResultBytes: number, heapMb: number }} Limits */
/** @typedef {{ depth: number, deadline: number }} Guard */

/** @type {Limits} */
const limits = workerData.limits;

/**
 * On Linux this thread lowers its own scheduling priority (nice 10; threads are scheduled on
 * their own), so that on a busy machine the server's main thread — the API, `/healthz`, streams —
 * gets the CPU before runaway expressions do. Best effort: elsewhere, or if refused, nothing.
 */
try {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(tid) && tid > 0) setPriority(tid, 10);
} catch {
  // not Linux, or no /proc: the worker keeps the process's priority
}
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);

/** The guard's variable name starts with a space: no JSONata source can name or rebind it. */
const GUARD = ' trellis.guard';
const MAX_CACHED = 5000;
const MAX_PLAIN_DEPTH = 1000;

/** Codes of our own limit errors (JSONata's use letters and four digits). */
const TOO_DEEP = 'D1011';
const TOO_LONG = 'D1012';
const STRING_CAP = 'TRELLIS_STRING';
const ARRAY_CAP = 'TRELLIS_ARRAY';
const HEAP_CAP = 'TRELLIS_HEAP';
/** Heap in use past which an expression stops: half the worker's limit. */
const HEAP_BUDGET = limits.heapMb * 1024 * 1024 * 0.5;
/** Values this large (characters or items) trigger a heap check as soon as they are built. */
const LARGE = 65_536;
let steps = 0;

function checkHeap() {
  const used = getHeapStatistics().used_heap_size;
  if (used > HEAP_BUDGET) throw { code: HEAP_CAP, value: Math.round(used / 1048576) };
}

/** @param {unknown} _expr @param {unknown} _input @param {{ lookup(name: string): unknown }} env */
function onEntry(_expr, _input, env) {
  const g = /** @type {Guard | undefined} */ (env.lookup(GUARD));
  if (!g) return;
  if (++g.depth > limits.maxDepth) throw { code: TOO_DEEP };
  if (Date.now() > g.deadline) throw { code: TOO_LONG };
}

/** @param {unknown} _expr @param {unknown} _input @param {{ lookup(name: string): unknown }} env @param {unknown} result */
function onExit(_expr, _input, env, result) {
  const g = /** @type {Guard | undefined} */ (env.lookup(GUARD));
  if (g) g.depth--;
  let size = 0;
  if (typeof result === 'string') {
    size = result.length;
    if (size > limits.maxStringLength) throw { code: STRING_CAP, value: size };
  } else if (Array.isArray(result)) {
    size = result.length;
    if (size > limits.maxArrayLength) throw { code: ARRAY_CAP, value: size };
  }
  if (size >= LARGE || (++steps & 63) === 0) checkHeap();
}

/** JSONata's own `$pad`, called by the guarded one below. */
const builtinPad = /** @type {{ implementation: Function }} */ (await jsonata('$pad').evaluate({}));

/** @param {unknown} str @param {number} width @param {unknown} char */
function guardedPad(str, width, char) {
  if (Math.abs(width) > limits.maxStringLength) throw { code: STRING_CAP, value: Math.abs(width) };
  return builtinPad.implementation(str, width, char);
}

/** JSONata's `$split` and `$match`, asked for one part more than the cap at most. */
const builtinSplit = /** @type {{ implementation: Function }} */ (await jsonata('$split').evaluate({}));
const builtinMatch = /** @type {{ implementation: Function }} */ (await jsonata('$match').evaluate({}));

/** @param {Function} impl @returns {(this: unknown, str: unknown, pattern: unknown, limit?: number) => Promise<unknown>} */
function capped(impl) {
  return async function (str, pattern, limit) {
    const cap = limits.maxArrayLength + 1;
    const parts = await impl.call(this, str, pattern, limit === undefined || limit > cap ? cap : limit);
    if (Array.isArray(parts) && parts.length > limits.maxArrayLength)
      throw { code: ARRAY_CAP, value: `more than ${limits.maxArrayLength}` };
    return parts;
  };
}
const guardedSplit = capped(builtinSplit.implementation);
const guardedMatch = capped(builtinMatch.implementation);

/** @type {Map<string, { ok: true, ev: jsonata.Expression } | { ok: false, message: string }>} */
const cache = new Map();

/** Parsed once per source text and kept (least recently used first out). */
function compiled(/** @type {string} */ source) {
  let hit = cache.get(source);
  if (hit) {
    cache.delete(source);
    cache.set(source, hit);
    return hit;
  }
  try {
    const ev = jsonata(source, { sequence: limits.maxSequence });
    ev.assign(/** @type {string} */ (/** @type {unknown} */ (Symbol.for('jsonata.__evaluate_entry'))), onEntry);
    ev.assign(/** @type {string} */ (/** @type {unknown} */ (Symbol.for('jsonata.__evaluate_exit'))), onExit);
    ev.registerFunction('pad', guardedPad, '<s-nn?s?:s>');
    ev.registerFunction('split', guardedSplit, '<s-(sf)n?:a<s>>');
    ev.registerFunction('match', guardedMatch, '<s-f<s:o>n?:a<o>>');
    hit = { ok: true, ev };
  } catch (err) {
    hit = { ok: false, message: String(/** @type {{ message?: unknown }} */ (err)?.message ?? 'does not parse') };
  }
  cache.set(source, hit);
  if (cache.size > MAX_CACHED) cache.delete(/** @type {string} */ (cache.keys().next().value));
  return hit;
}

/** What an error says, in the words of the core's in-process evaluator. */
function describe(/** @type {unknown} */ err) {
  const e = /** @type {{ code?: unknown, message?: unknown, value?: unknown, position?: unknown }} */ (err ?? {});
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code === TOO_DEEP)
    return `expression went deeper than the limit of ${limits.maxDepth} nested evaluations (runaway recursion?)`;
  if (code === TOO_LONG) return `expression ran longer than the limit of ${limits.timeoutMs} ms (infinite loop?)`;
  if (code === 'D2015' || code === 'D2014')
    return `expression built a sequence longer than the limit of ${limits.maxSequence} items`;
  if (code === STRING_CAP)
    return `expression built a string of ${e.value} characters, over the sandbox's limit of ${limits.maxStringLength}`;
  if (code === ARRAY_CAP)
    return `expression built an array of ${e.value} items, over the sandbox's limit of ${limits.maxArrayLength}`;
  if (code === HEAP_CAP)
    return `expression held ${e.value} MB of memory, over half the sandbox's heap limit of ${limits.heapMb} MB`;
  if (err instanceof RangeError) return `expression exhausted a limit of the JavaScript engine (${err.message})`;
  return typeof e.message === 'string' ? e.message : 'expression failed';
}

class ResultError extends Error {}

/**
 * JSONata's value as plain JSON-like data (sequences become arrays, dates ISO strings), counting
 * its JSON size as it goes so an oversized result stops early.
 */
function toPlain(/** @type {unknown} */ value, /** @type {{ bytes: number }} */ size, depth = 0) {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'function') throw new ResultError('expression returned a function; return data instead');
    size.bytes += typeof value === 'string' ? value.length + 2 : 8;
    if (size.bytes > limits.maxResultBytes)
      throw new ResultError(`expression result is larger than the sandbox's limit of ${limits.maxResultBytes} bytes`);
    return value;
  }
  if (depth > MAX_PLAIN_DEPTH) throw new ResultError(`expression result is nested deeper than ${MAX_PLAIN_DEPTH} levels`);
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = toPlain(value[i], size, depth + 1);
    size.bytes += 2 + value.length;
    return out;
  }
  if (value instanceof Date) return toPlain(value.toISOString(), size, depth);
  /** @type {Record<string, unknown>} */
  const out = {};
  for (const key of Object.keys(value)) {
    const v = toPlain(/** @type {Record<string, unknown>} */ (value)[key], size, depth + 1);
    if (v === undefined) continue;
    size.bytes += key.length + 4;
    if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    else out[key] = v;
  }
  return out;
}

/**
 * Evaluates one job's items in order. A failure stops the job: its first error is the answer.
 * @param {{ source: string, scope: Record<string, unknown> }[]} items
 */
async function run(items) {
  const values = [];
  const size = { bytes: 0 };
  for (let i = 0; i < items.length; i++) {
    const { source, scope } = /** @type {{ source: string, scope: Record<string, unknown> }} */ (items[i]);
    const c = compiled(source);
    if (!c.ok) return { ok: false, index: i, error: { code: 'EXPRESSION_SYNTAX', message: c.message } };
    /** @type {Record<string, unknown>} */
    const bindings = Object.create(null);
    for (const key of Object.keys(scope)) bindings[key] = scope[key];
    bindings[GUARD] = /** @type {Guard} */ ({ depth: 0, deadline: Date.now() + limits.timeoutMs });
    steps = 0;
    let result;
    try {
      result = await c.ev.evaluate(scope, bindings);
    } catch (err) {
      const e = /** @type {{ code?: unknown, position?: unknown }} */ (err ?? {});
      return {
        ok: false,
        index: i,
        error: {
          code: 'EXPRESSION_ERROR',
          message: describe(err),
          jsonataCode: typeof e.code === 'string' ? e.code : undefined,
          position: typeof e.position === 'number' ? e.position : undefined,
        },
      };
    }
    try {
      values.push(toPlain(result, size));
    } catch (err) {
      if (!(err instanceof ResultError) && !(err instanceof RangeError)) throw err;
      return { ok: false, index: i, error: { code: 'EXPRESSION_ERROR', message: err.message } };
    }
  }
  return { ok: true, values };
}

port.on('message', (/** @type {{ id: number, items: { source: string, scope: Record<string, unknown> }[] }} */ job) => {
  run(job.items).then(
    (answer) => port.postMessage({ id: job.id, ...answer }),
    (err) =>
      port.postMessage({
        id: job.id,
        ok: false,
        index: 0,
        error: { code: 'EXPRESSION_ERROR', message: describe(err) },
      }),
  );
});
port.postMessage({ ready: true });
