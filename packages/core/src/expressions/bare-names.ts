/**
 * Bare names read at the top of an expression. In Trellis the scope object is JSONata's input
 * `$`, so a bare name (`tru`, `hotels`) reads a field of the scope: the run input under
 * `context` or a node's output under its id. Any other bare name reads nothing, so
 * `$cond.value = tru` is always false — almost always a typo for `true` or a forgotten `$`.
 *
 * Only names read against the scope itself are returned: paths at the top of the expression
 * and in the operands of operators, conditionals, blocks and function arguments. Names after a
 * `.` or inside a filter (`$x.items[price < 3]`) read the current item, and lambda bodies may be
 * called with any input: neither is looked at.
 */
import type jsonata from 'jsonata';
import { tryCompileExpression } from './expression.ts';

export interface BareName {
  name: string;
  /** Character offset of the name's first character in the source. */
  start: number;
}

/** Bare names the expression reads from the scope (empty when it does not parse). */
export function bareScopeNames(source: string): BareName[] {
  const parsed = tryCompileExpression(source);
  if (!parsed.ok) return [];
  return bareNamesOfAst(parsed.expression.ast());
}

type Node = Record<string, unknown> & { type?: unknown; value?: unknown; position?: unknown };

export function bareNamesOfAst(ast: jsonata.ExprNode): BareName[] {
  const out: BareName[] = [];
  const stack: unknown[] = [ast];
  while (stack.length > 0) {
    const n = stack.pop() as Node | undefined;
    if (!n || typeof n !== 'object') continue;
    switch (n.type) {
      case 'path': {
        const first = (n.steps as Node[] | undefined)?.[0];
        if (first?.type === 'name' && typeof first.value === 'string') {
          const end = typeof first.position === 'number' ? first.position : first.value.length;
          out.push({ name: first.value, start: Math.max(0, end - first.value.length) });
        }
        // A path that starts with a variable or a function call: its first step is evaluated
        // against the scope too (e.g. `$count(x).y`).
        else if (first && first.type !== 'name') stack.push(first);
        break;
      }
      case 'name':
        if (typeof n.value === 'string') {
          const end = typeof n.position === 'number' ? n.position : n.value.length;
          out.push({ name: n.value, start: Math.max(0, end - n.value.length) });
        }
        break;
      case 'binary':
        stack.push(n.rhs, n.lhs);
        break;
      case 'unary':
        // `-x`; `[…]` array constructors and `{…}` object constructors keep the input.
        if (n.value === '-') stack.push(n.expression);
        else if (n.value === '[' && Array.isArray(n.expressions)) stack.push(...[...n.expressions].reverse());
        else if (n.value === '{' && Array.isArray(n.lhs)) for (const pair of n.lhs as unknown[][]) stack.push(...pair);
        break;
      case 'condition':
        stack.push(n.else, n.then, n.condition);
        break;
      case 'block':
        if (Array.isArray(n.expressions)) stack.push(...[...n.expressions].reverse());
        break;
      case 'bind':
        stack.push(n.rhs);
        break;
      case 'function':
      case 'partial':
        if (Array.isArray(n.arguments)) stack.push(...[...n.arguments].reverse());
        break;
      default:
        break;
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

const LITERALS = ['true', 'false', 'null'] as const;

/** What a mistyped bare name probably meant: a literal one or two edits away, or a known name with `$`. */
export function suggestForBareName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  for (const lit of LITERALS) if (lower === lit || editDistance(lower, lit) <= 2) return lit;
  for (const k of known) if (editDistance(name, k) <= 1) return `$${k}`;
  return undefined;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        (prev[j] as number) + 1,
        (cur[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length] as number;
}
