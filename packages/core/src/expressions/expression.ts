/**
 * JSONata expressions, parsed once and cached by source, evaluated with limits.
 *
 * Scope convention: the scope maps variable names to values (`context` → the run's input,
 * `<nodeId>` → that node's output). Each entry is bound as a JSONata variable (`$context`,
 * `$search_hotels`), and the scope object itself is JSONata's input `$`.
 */
import jsonata from 'jsonata';
import { TrellisError } from '../errors.ts';
import { DEFAULT_EXPRESSION_LIMITS, type ExpressionLimits, limitsKey, withDefaults } from './limits.ts';
import { LruCache } from './lru.ts';
import { toPlainData } from './plain-data.ts';
import { referencedVariablesOfAst } from './variables.ts';

/** Longest expression source accepted; longer ones are refused before parsing. */
export const MAX_EXPRESSION_LENGTH = 20_000;

/** Where and why an expression does not parse. */
export interface ExpressionSyntaxInfo {
  message: string;
  /** Character offset in the source, when JSONata reports one. */
  position?: number;
}

/** A parsed JSONata expression, safe to share and to evaluate concurrently. */
export interface PreparedExpression {
  readonly source: string;
  /** The `$variables` it reads from the scope (not built-ins, not its own local bindings). */
  readonly variables: readonly string[];
  /** JSONata's syntax tree (for static checks such as bare-names.ts). */
  ast(): jsonata.ExprNode;
  /** Rejects with TrellisError `EXPRESSION_ERROR` on any failure, including a limit being hit. */
  evaluate(scope: Record<string, unknown>, limits?: Partial<ExpressionLimits>): Promise<unknown>;
}

type Parsed = { ok: true; expression: PreparedExpression } | { ok: false; error: ExpressionSyntaxInfo };

const parseCache = new LruCache<string, Parsed>(10_000);
/** Evaluators for a non-default sequence limit (JSONata fixes that one at creation). */
const evaluatorCache = new LruCache<string, jsonata.Expression>(10_000);

/**
 * Parses `source` (cached). Returns the prepared expression or where it fails to parse;
 * never throws.
 */
export function tryCompileExpression(source: string): Parsed {
  const hit = parseCache.get(source);
  if (hit) return hit;
  const parsed = parse(source);
  parseCache.set(source, parsed);
  return parsed;
}

/** Parses `source` (cached); throws TrellisError `EXPRESSION_SYNTAX` when it does not parse. */
export function compileExpression(source: string): PreparedExpression {
  const r = tryCompileExpression(source);
  if (r.ok) return r.expression;
  throw new TrellisError('EXPRESSION_SYNTAX', r.error.message, { category: 'user', details: r.error });
}

/** The scope variables an expression reads; throws EXPRESSION_SYNTAX if it does not parse. */
export function referencedVariables(source: string): readonly string[] {
  return compileExpression(source).variables;
}

/**
 * Deepest nesting of brackets accepted. JSONata's parser recurses once per level, and a source
 * of thousands of `(` takes it most of a second to fail on its stack: refused up front, so
 * saving or validating a definition stays cheap whatever it contains.
 */
export const MAX_EXPRESSION_NESTING = 100;

/** The deepest `(`/`[`/`{` nesting of a source, outside string literals and comments. */
function bracketNesting(src: string): { depth: number; at: number } {
  let depth = 0;
  let max = 0;
  let at = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src.charCodeAt(i);
    if (c === 34 || c === 39 || c === 96) {
      // "…", '…' and `…` (a quoted name): skip to the closing quote, honouring escapes.
      for (i++; i < src.length && src.charCodeAt(i) !== c; i++) if (src.charCodeAt(i) === 92) i++;
    } else if (c === 47 && src.charCodeAt(i + 1) === 42) {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? src.length : end + 1;
    } else if (c === 40 || c === 91 || c === 123) {
      if (++depth > max) {
        max = depth;
        at = i;
      }
    } else if (c === 41 || c === 93 || c === 125) depth--;
  }
  return { depth: max, at };
}

function parse(source: string): Parsed {
  if (source.length > MAX_EXPRESSION_LENGTH) {
    return {
      ok: false,
      error: { message: `expression is ${source.length} characters long; the limit is ${MAX_EXPRESSION_LENGTH}` },
    };
  }
  const nesting = bracketNesting(source);
  if (nesting.depth > MAX_EXPRESSION_NESTING) {
    return {
      ok: false,
      error: {
        message: `expression nests brackets deeper than ${MAX_EXPRESSION_NESTING} levels (at character ${nesting.at})`,
        position: nesting.at,
      },
    };
  }
  let instance: jsonata.Expression;
  try {
    instance = createEvaluator(source, DEFAULT_EXPRESSION_LIMITS.maxSequence);
  } catch (err) {
    return { ok: false, error: syntaxInfo(err) };
  }
  const variables = referencedVariablesOfAst(instance.ast());
  // The prepared expression keeps its default evaluator itself, so a caller holding it (the
  // runner caches one per workflow version) never re-parses, whatever the caches evict.
  const expression: PreparedExpression = {
    source,
    variables,
    ast: () => instance.ast(),
    evaluate: (scope, limits) => {
      const l = withDefaults(limits);
      const ev = l.maxSequence === DEFAULT_EXPRESSION_LIMITS.maxSequence ? instance : evaluatorFor(source, l);
      return evaluate(ev, source, scope, l);
    },
  };
  return { ok: true, expression };
}

/**
 * Per-evaluation limits. Depth and wall time are checked in JSONata's `__evaluate_entry` /
 * `__evaluate_exit` hooks against a guard object passed with each evaluation's bindings, so one
 * parsed expression serves any limits and concurrent evaluations never share a counter. The
 * guard's name starts with a space: no JSONata source can name, read or rebind it.
 * The sequence limit is JSONata's own option, fixed when the expression is created, so
 * evaluators are cached per `maxSequence` (normally the default only).
 */
const GUARD = ' trellis.guard';

interface Guard {
  depth: number;
  readonly maxDepth: number;
  readonly deadline: number;
}

interface GuardEnv {
  lookup(name: string): unknown;
}

function onEntry(_expr: unknown, _input: unknown, env: GuardEnv): void {
  const g = env.lookup(GUARD) as Guard | undefined;
  if (!g) return;
  if (++g.depth > g.maxDepth) throw { code: 'D1011' };
  if (Date.now() > g.deadline) throw { code: 'D1012' };
}

function onExit(_expr: unknown, _input: unknown, env: GuardEnv): void {
  const g = env.lookup(GUARD) as Guard | undefined;
  if (g) g.depth--;
}

function createEvaluator(source: string, maxSequence: number): jsonata.Expression {
  const ev = jsonata(source, { sequence: maxSequence });
  // jsonata's typings only allow string names; its environment accepts symbols, which is how
  // its own test suite installs these hooks.
  ev.assign(Symbol.for('jsonata.__evaluate_entry') as unknown as string, onEntry);
  ev.assign(Symbol.for('jsonata.__evaluate_exit') as unknown as string, onExit);
  return ev;
}

function evaluatorFor(source: string, limits: ExpressionLimits): jsonata.Expression {
  const key = `${limitsKey(limits)}\u0000${source}`;
  let ev = evaluatorCache.get(key);
  if (!ev) {
    ev = createEvaluator(source, limits.maxSequence);
    evaluatorCache.set(key, ev);
  }
  return ev;
}

async function evaluate(
  ev: jsonata.Expression,
  source: string,
  scope: Record<string, unknown>,
  limits: ExpressionLimits,
): Promise<unknown> {
  let result: unknown;
  try {
    // A fresh plain object: JSONata binds each own key as a variable; no prototype is reachable.
    const bindings: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(scope)) {
      const v = scope[key];
      if (typeof v === 'function')
        throw new TrellisError('EXPRESSION_ERROR', `scope variable $${key} is a function; only plain data is allowed`);
      bindings[key] = v;
    }
    // Last, so no scope key can replace it.
    bindings[GUARD] = { depth: 0, maxDepth: limits.maxDepth, deadline: Date.now() + limits.timeoutMs } satisfies Guard;
    result = await ev.evaluate(scope, bindings);
  } catch (err) {
    throw toExpressionError(err, source, limits);
  }
  return toPlainData(result);
}

function syntaxInfo(err: unknown): ExpressionSyntaxInfo {
  const e = err as { message?: unknown; position?: unknown; token?: unknown };
  const message = typeof e.message === 'string' ? e.message : 'does not parse';
  const info: ExpressionSyntaxInfo = { message };
  if (typeof e.position === 'number') {
    info.position = e.position;
    info.message = `${message} (at character ${e.position})`;
  }
  return info;
}

/** Turns whatever JSONata threw into EXPRESSION_ERROR with a message that says what happened. */
export function toExpressionError(err: unknown, source: string, limits: ExpressionLimits): TrellisError {
  if (err instanceof TrellisError) return err;
  const e = (err ?? {}) as { code?: unknown; message?: unknown; position?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  let message: string;
  if (code === 'D1011')
    message = `expression went deeper than the limit of ${limits.maxDepth} nested evaluations (runaway recursion?)`;
  else if (code === 'D1012') message = `expression ran longer than the limit of ${limits.timeoutMs} ms (infinite loop?)`;
  else if (code === 'D2015' || code === 'D2014')
    message = `expression built a sequence longer than the limit of ${limits.maxSequence} items`;
  else if (err instanceof RangeError) message = 'expression exhausted the stack (runaway recursion?)';
  else message = typeof e.message === 'string' ? e.message : 'expression failed';
  const shown = source.length > 200 ? `${source.slice(0, 200)}…` : source;
  return new TrellisError('EXPRESSION_ERROR', `${message} — in ${JSON.stringify(shown)}`, {
    category: 'user',
    details: { jsonataCode: code, position: typeof e.position === 'number' ? e.position : undefined },
  });
}

/** Drops every cached parse (tests and long-lived processes that load many definitions). */
export function clearExpressionCache(): void {
  parseCache.clear();
  evaluatorCache.clear();
}
