/**
 * `trellis validate FILE [--json] [--server URL]`: compiles a definition and prints every problem;
 * with `--server`, asks a running server, which also checks its agent and tool registries (the
 * same checks as saving there).
 * Exit codes: 0 valid, 1 invalid (including content that is not JSON/YAML or is empty),
 * 2 usage or I/O error (no such file, unreadable, above the size cap).
 */
import { type CompiledWorkflow, compile, type ValidationError } from '@trellis/core';
import { loadDefinitionFile } from '../load-definition.ts';

export const VALIDATE_HELP = `Usage: trellis validate FILE [--json] [--server URL [--token TOKEN]]

Compiles a workflow definition (JSON or YAML) and reports every problem found,
each with its code, the JSON pointer of the offending value and what to fix.

Options:
  --json          print { "valid", "errors", "warnings" } as JSON on stdout
  --server URL    ask a running Trellis server (e.g. http://127.0.0.1:8080) instead: it also
                  checks that the agents, skills and tools the workflow names are registered
                  there (AGENT_NOT_FOUND, UNKNOWN_AGENT_SKILL, TOOL_NOT_FOUND, TOOL_INPUT_INVALID),
                  exactly as saving the workflow there would
  --token TOKEN   the API token for --server (default: the TRELLIS_TOKEN environment variable)
  -h, --help      show this help

Exit status: 0 valid, 1 invalid, 2 usage or I/O error.`;

/** Problems shown in human output; --json always has all of them. */
const MAX_SHOWN = 200;

export async function validate(argv: string[]): Promise<number> {
  let json = false;
  let server: string | undefined;
  let token = process.env.TRELLIS_TOKEN || undefined;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${VALIDATE_HELP}\n`);
      return 0;
    }
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    if (flag === '--server' || flag === '--token') {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '') return usage(`${flag} needs a value`, json);
      if (flag === '--server') server = value;
      else token = value;
      continue;
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
  if (server !== undefined && loaded.ok) {
    const remote = await validateOnServer(server, token, loaded.value);
    if (!remote.ok) {
      if (json) writeJson({ valid: false, errors: [], warnings: [], error: { code: 'SERVER', message: remote.message } });
      else process.stderr.write(`trellis validate: ${remote.message}\n`);
      return 2;
    }
    return report(file, json, remote.errors, remote.warnings, loaded.ok ? compile(loaded.value) : undefined);
  }
  const result = loaded.ok ? compile(loaded.value) : undefined;
  const errors: ValidationError[] = loaded.ok ? (result?.errors ?? []) : [{ code: 'SCHEMA', message: loaded.message }];
  return report(file, json, errors, result?.warnings ?? [], result);
}

function report(
  file: string,
  json: boolean,
  errors: ValidationError[],
  warnings: ValidationError[],
  result: ReturnType<typeof compile> | undefined,
): number {
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

/** POST /api/v1/workflows/validate on a running server; every failure is a sentence saying what to do. */
async function validateOnServer(
  server: string,
  token: string | undefined,
  definition: unknown,
): Promise<{ ok: true; errors: ValidationError[]; warnings: ValidationError[] } | { ok: false; message: string }> {
  let origin: string;
  try {
    const url = new URL(server);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    origin = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return { ok: false, message: `--server must be the server's http(s) address, e.g. http://127.0.0.1:8080; got '${server}'` };
  }
  if (!token) {
    return {
      ok: false,
      message: 'give an API token for --server with --token or TRELLIS_TOKEN (create one with: trellis token create --name you)',
    };
  }
  // Loaded only here: a local validation does not pay for the HTTP client.
  const { TrellisApiError, TrellisClient } = await import('@trellis/client');
  const client = new TrellisClient({ baseUrl: origin, token, timeoutMs: 30_000 });
  try {
    const r = await client.validateWorkflow(definition as Record<string, unknown>);
    // Codes on the wire are strings; they are the compiler's closed set.
    return { ok: true, errors: r.errors as ValidationError[], warnings: r.warnings as ValidationError[] };
  } catch (err) {
    if (!(err instanceof TrellisApiError)) throw err;
    if (err.kind === 'network')
      return { ok: false, message: `cannot reach ${origin} (${err.message}); is \`trellis serve\` running there?` };
    if (err.kind === 'unauthorized')
      return { ok: false, message: `${origin} refused the token (401); check --token or TRELLIS_TOKEN` };
    return { ok: false, message: `${origin} answered ${err.status || err.code}: ${err.message}` };
  }
}
