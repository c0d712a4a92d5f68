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
    const message = err instanceof Error ? err.message : String(err);
    const pos = /position (\d+)/.exec(message);
    const where = pos ? ` (${lineCol(text, Number(pos[1]))})` : '';
    return contentError(
      'PARSE_ERROR',
      `${name} is not valid JSON: ${message.replace(/ in JSON at position \d+.*$/, '')}${where}`,
    );
  }
}

function parseYamlText(text: string, name: string): DefinitionTextResult {
  try {
    return { ok: true, value: parseYaml(text, { maxAliasCount: 100, prettyErrors: true }), format: 'yaml' };
  } catch (err) {
    let message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    if (/call stack/i.test(message ?? '')) message = 'nesting is too deep';
    return contentError('PARSE_ERROR', `${name} is not valid YAML: ${message}`);
  }
}

function detail(r: DefinitionTextResult): string {
  return r.ok ? 'ok' : r.message.replace(/^.* is not valid (JSON|YAML): /, '');
}

function lineCol(text: string, pos: number): string {
  let line = 1;
  let col = 1;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      col = 1;
    } else col++;
  }
  return `line ${line}, column ${col}`;
}

function contentError(code: 'FILE_EMPTY' | 'PARSE_ERROR', message: string): DefinitionTextResult {
  return { ok: false, code, message, io: false };
}
