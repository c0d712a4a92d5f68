/**
 * `{{ expr }}` templates: a string with JSONata expressions between double braces. Splitting
 * respects JSONata's own braces and string literals, so `{{ {'a': {'b': 1}} }}` is one part.
 */

export type TemplatePart = { kind: 'text'; text: string } | { kind: 'expr'; source: string; offset: number };

export type TemplateSplit = { ok: true; parts: TemplatePart[] } | { ok: false; message: string };

/** True when `s` contains a template opening; cheap pre-check before splitting. */
export function hasTemplate(s: string): boolean {
  return s.includes('{{');
}

export function splitTemplate(s: string): TemplateSplit {
  const parts: TemplatePart[] = [];
  let i = 0;
  let text = '';
  while (i < s.length) {
    const open = s.indexOf('{{', i);
    if (open < 0) {
      text += s.slice(i);
      break;
    }
    text += s.slice(i, open);
    const start = open + 2;
    const end = findClose(s, start);
    if (end < 0) return { ok: false, message: `template opens "{{" at character ${open} but never closes it with "}}"` };
    const source = s.slice(start, end);
    if (source.trim() === '') return { ok: false, message: `template has an empty "{{ }}" at character ${open}` };
    if (text) parts.push({ kind: 'text', text });
    text = '';
    parts.push({ kind: 'expr', source: source.trim(), offset: start });
    i = end + 2;
  }
  if (text) parts.push({ kind: 'text', text });
  return { ok: true, parts };
}

/** Index of the `}}` that closes an expression starting at `from`, or -1. */
function findClose(s: string, from: number): number {
  let depth = 0;
  let quote = '';
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0 && s[i + 1] === '}') return i;
      if (depth > 0) depth--;
    }
  }
  return -1;
}
