/**
 * Definition text to a value: JSON or YAML, with clear errors. Pure (no I/O), so the CLI, the
 * server and the console parse definitions the same way.
 *
 * - Format: a name ending `.json` is JSON, `.yaml`/`.yml` YAML; any other is tried as JSON,
 *   then YAML.
 * - YAML aliases are capped, so a "billion laughs" document cannot expand without bound, and a
 *   nesting deep enough to exhaust the parser's stack is reported, not thrown.
 */
import { parse as parseYaml } from 'yaml';
import { locateJsonError } from './json-error.ts';

export type DefinitionTextResult =
  | { ok: true; value: unknown; format: 'json' | 'yaml' }
  | { ok: false; code: 'FILE_EMPTY' | 'PARSE_ERROR'; message: string; io: false };

function extname(name: string): string {
  const m = /\.[^./\\]+$/.exec(name);
  return m ? m[0] : '';
}

/** Parses definition text; `name` picks the format by extension and appears in messages. */
export function parseDefinitionText(text: string, name: string): DefinitionTextResult {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // a UTF-8 BOM is not content
  if (body.trim() === '')
    return contentError('FILE_EMPTY', `${name} is empty; a definition is a JSON or YAML object with "name", "nodes" and "edges"`);
  const ext = extname(name).toLowerCase();
  if (ext === '.json') return parseJson(body, name);
  if (ext === '.yaml' || ext === '.yml') return parseYamlText(body, name);
  const asJson = parseJson(body, name);
  if (asJson.ok) return asJson;
  const asYaml = parseYamlText(body, name);
  return asYaml.ok
    ? asYaml
    : contentError('PARSE_ERROR', `${name} is neither JSON nor YAML. As JSON: ${detail(asJson)}. As YAML: ${detail(asYaml)}`);
}

function parseJson(text: string, name: string): DefinitionTextResult {
  try {
    return { ok: true, value: JSON.parse(text), format: 'json' };
  } catch (err) {
    const found = locateJsonError(text);
    if (found)
      return contentError(
        'PARSE_ERROR',
        `${name} is not valid JSON at line ${found.line}, column ${found.column}: ${found.reason}`,
      );
    // The scanner accepted what JSON.parse refused (e.g. nesting beyond the engine's stack): its message, on one line.
    const message = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ');
    return contentError('PARSE_ERROR', `${name} is not valid JSON: ${message}`);
  }
}

function parseYamlText(text: string, name: string): DefinitionTextResult {
  try {
    return { ok: true, value: parseYaml(text, { maxAliasCount: 100, prettyErrors: true }), format: 'yaml' };
  } catch (err) {
    // The yaml library's first line ends "at line L, column C:" and the excerpt follows on the next lines.
    let message = err instanceof Error ? (err.message.split('\n')[0] ?? '').replace(/:\s*$/, '') : String(err);
    if (/call stack/i.test(message)) message = 'nesting is too deep';
    const pos = (err as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    const source = pos ? text.split(/\r?\n/)[pos.line - 1]?.trim() : undefined;
    if (source) message += ` (the line reads: ${source.length > 80 ? `${source.slice(0, 80)}…` : source})`;
    else if (pos) message += ' (an empty line, or the end of the text)';
    return contentError('PARSE_ERROR', `${name} is not valid YAML: ${message}`);
  }
}

function detail(r: DefinitionTextResult): string {
  return r.ok ? 'ok' : r.message.replace(/^.* is not valid (JSON|YAML): /, '');
}

function contentError(code: 'FILE_EMPTY' | 'PARSE_ERROR', message: string): DefinitionTextResult {
  return { ok: false, code, message, io: false };
}
