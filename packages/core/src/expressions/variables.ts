/**
 * Which `$variables` a JSONata expression reads from its scope. The compiler uses this to check
 * that every node an expression names exists and is upstream.
 *
 * The walk is generic over the AST (every object and array property is visited), so it does not
 * depend on the exact shape of each of JSONata's node kinds. Variables the expression binds
 * itself (`$x := …`, lambda parameters, `@$focus`, `#$index`) are excluded wherever they occur:
 * a slight over-approximation of scoping, which only matters for an expression that binds a
 * name identical to a node id, and then the local binding is what JSONata uses anyway.
 */
import type jsonata from 'jsonata';
import { JSONATA_BUILTINS } from './builtins.ts';

export function referencedVariablesOfAst(ast: jsonata.ExprNode): string[] {
  /** Variable → first position in the source, so results come in reading order. */
  const used = new Map<string, number>();
  const bound = new Set<string>();
  const seen = new Set<object>();
  // Iterative, so a deeply nested expression cannot overflow the stack.
  const stack: unknown[] = [ast];
  while (stack.length > 0) {
    const cur = stack.pop();
    if (cur === null || typeof cur !== 'object' || seen.has(cur)) continue;
    seen.add(cur);
    if (Array.isArray(cur)) {
      for (const item of cur) stack.push(item);
      continue;
    }
    const node = cur as Record<string, unknown>;
    if (node.type === 'variable' && typeof node.value === 'string') {
      const pos = typeof node.position === 'number' ? node.position : 0;
      const prev = used.get(node.value);
      if (prev === undefined || pos < prev) used.set(node.value, pos);
    }
    if (node.type === 'bind') collectVariableName(node.lhs, bound);
    if (node.type === 'lambda' && Array.isArray(node.arguments)) for (const a of node.arguments) collectVariableName(a, bound);
    if (typeof node.focus === 'string') bound.add(node.focus);
    if (typeof node.index === 'string') bound.add(node.index);
    for (const key in node) {
      const v = node[key];
      if (v !== null && typeof v === 'object') stack.push(v);
    }
  }
  const out: string[] = [];
  for (const [name] of [...used].sort((x, y) => x[1] - y[1])) {
    // '' is `$` (the input) and '$' is `$$` (the root): not scope variables.
    if (name === '' || name === '$' || bound.has(name) || JSONATA_BUILTINS.has(name)) continue;
    out.push(name);
  }
  return out;
}

function collectVariableName(node: unknown, into: Set<string>): void {
  if (node && typeof node === 'object' && (node as { type?: unknown }).type === 'variable') {
    const v = (node as { value?: unknown }).value;
    if (typeof v === 'string') into.add(v);
  }
}
