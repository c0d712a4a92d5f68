/**
 * `trellis validate FILE [--json]` (SPEC §3): compiles a definition and prints every problem.
 * Exit codes: 0 valid, 1 invalid (including content that is not JSON/YAML or is empty),
 * 2 usage or I/O error (no such file, unreadable, above the size cap).
 */
import { type CompiledWorkflow, compile, type ValidationError } from '@trellis/core';
import { loadDefinitionFile } from '../load-definition.ts';

export const VALIDATE_HELP = `Usage: trellis validate FILE [--json]

Compiles a workflow definition (JSON or YAML) and reports every problem found,
each with its code, the JSON pointer of the offending value and what to fix.

Options:
  --json     print { "valid", "errors", "warnings" } as JSON on stdout
  -h, --help show this help

Exit status: 0 valid, 1 invalid, 2 usage or I/O error.`;

/** Problems shown in human output; --json always has all of them. */
const MAX_SHOWN = 200;

export async function validate(argv: string[]): Promise<number> {
  let json = false;
  const files: string[] = [];
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${VALIDATE_HELP}\n`);
      return 0;
    }
    if (arg === '--json') json = true;
    else if (arg.startsWith('-') && arg !== '-') return usage(`unknown option ${arg}`, json);
    else files.push(arg);
  }
  if (files.length !== 1) return usage(files.length === 0 ? 'missing FILE' : 'give exactly one FILE', json);
  const file = files[0] as string;

  const loaded = await loadDefinitionFile(file);
  if (!loaded.ok && loaded.io) {
    if (json) writeJson({ valid: false, errors: [], warnings: [], error: { code: loaded.code, message: loaded.message } });
    else process.stderr.write(`trellis validate: ${loaded.message}\n`);
    return 2;
  }
  const result = loaded.ok ? compile(loaded.value) : undefined;
  const errors: ValidationError[] = loaded.ok ? (result?.errors ?? []) : [{ code: 'SCHEMA', message: loaded.message }];
  const warnings = result?.warnings ?? [];
  const valid = errors.length === 0;

  if (json) {
    writeJson({ valid, errors, warnings });
  } else if (valid && result?.ok) {
    for (const w of warnings) process.stdout.write(`${formatProblem(w, '!')}\n`);
    process.stdout.write(`${describeValid(file, result.compiled)}\n`);
  } else {
    process.stdout.write(`✗ ${file}: ${errors.length} problem${errors.length === 1 ? '' : 's'}\n`);
    for (const e of errors.slice(0, MAX_SHOWN)) process.stdout.write(`${formatProblem(e, '✗')}\n`);
    if (errors.length > MAX_SHOWN) process.stdout.write(`… and ${errors.length - MAX_SHOWN} more (use --json to see all)\n`);
    for (const w of warnings.slice(0, MAX_SHOWN)) process.stdout.write(`${formatProblem(w, '!')}\n`);
  }
  return valid ? 0 : 1;
}

/** `✗ nodes/3/input/query (filter_price): BINDING_NOT_UPSTREAM — message` */
export function formatProblem(e: ValidationError, mark: string): string {
  const where = e.path ? e.path.replace(/^\//, '') || '(document)' : '(document)';
  const who = e.nodes && e.nodes.length > 0 ? ` (${e.nodes.join(', ')})` : '';
  return `${mark} ${where}${who}: ${e.code} — ${e.message}`;
}

function describeValid(file: string, c: CompiledWorkflow): string {
  const cp = c.criticalPath;
  return [
    `✓ ${file}: valid — ${c.nodes.length} node${c.nodes.length === 1 ? '' : 's'}, ${c.edges.length} edge${c.edges.length === 1 ? '' : 's'}, ${c.levels.length} level${c.levels.length === 1 ? '' : 's'}`,
    `  critical path: ${cp.nodes.length > 12 ? `${cp.nodes.slice(0, 12).join(' → ')} → … (${cp.nodes.length} nodes)` : cp.nodes.join(' → ')} (estimated ${cp.estimatedMs} ms)`,
  ].join('\n');
}

function usage(message: string, json: boolean): number {
  if (json) writeJson({ valid: false, errors: [], warnings: [], error: { code: 'USAGE', message } });
  else process.stderr.write(`trellis validate: ${message}\n\n${VALIDATE_HELP}\n`);
  return 2;
}

function writeJson(v: unknown): void {
  process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
}
