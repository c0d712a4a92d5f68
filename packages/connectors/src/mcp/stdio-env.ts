/**
 * A stdio server's `env` and `cwd` (administrators register them, as they register stdio
 * itself). `env` values are treated like registration headers: text that may hold
 * `{{ $secrets.NAME }}` references, stored unresolved and rendered when the process starts.
 * What the API shows of them: a reference as written, any other value as `[hidden]` (a
 * literal value may still be a secret someone pasted); errors never quote them (the stderr
 * tail replaces each value with `[redacted]`).
 */
import { isAbsolute } from 'node:path';
import { splitSecretTemplate, TrellisError } from '@trellis/core';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Variables the process's start-up reads before any of its code runs: not registrable. */
const REFUSED = new Set(['NODE_OPTIONS', 'LD_PRELOAD', 'LD_LIBRARY_PATH', 'DYLD_INSERT_LIBRARIES']);

export function checkEnvTemplates(env: unknown): Record<string, string> {
  if (env === undefined || env === null) return {};
  if (typeof env !== 'object' || Array.isArray(env)) {
    throw new TrellisError('INPUT_INVALID', '"env" is an object of variable name → value', { category: 'user' });
  }
  const entries = Object.entries(env as Record<string, unknown>);
  if (entries.length > 50) throw new TrellisError('INPUT_INVALID', '"env": at most 50 variables', { category: 'user' });
  for (const [name, value] of entries) {
    if (!ENV_NAME.test(name)) {
      throw new TrellisError(
        'INPUT_INVALID',
        `"env": "${name.slice(0, 128)}" is not a valid variable name (letters, digits and "_", not starting with a digit)`,
        { category: 'user' },
      );
    }
    if (REFUSED.has(name.toUpperCase())) {
      throw new TrellisError(
        'INPUT_INVALID',
        `"env": ${name} cannot be registered (put such settings in the command's arguments)`,
        {
          category: 'user',
        },
      );
    }
    if (typeof value !== 'string' || value.length > 8192 || value.includes('\0')) {
      throw new TrellisError('INPUT_INVALID', `"env": ${name} is a string of at most 8192 characters`, { category: 'user' });
    }
    if (value.includes('{{')) {
      const parts = splitSecretTemplate(value);
      if (!parts || parts.some((p) => p.kind === 'expr')) {
        throw new TrellisError(
          'SECRET_NOT_ALLOWED_HERE',
          `"env": ${name} may hold text and {{ $secrets.NAME }} references only, e.g. "{{ $secrets.GITHUB_TOKEN }}"`,
          { category: 'user' },
        );
      }
    }
  }
  return env as Record<string, string>;
}

export function checkCwd(cwd: unknown): string | undefined {
  if (cwd === undefined || cwd === null) return undefined;
  if (typeof cwd !== 'string' || cwd.length === 0 || cwd.length > 4096 || !isAbsolute(cwd) || cwd.includes('\0')) {
    throw new TrellisError('INPUT_INVALID', '"cwd" is an absolute directory path on the Trellis host', { category: 'user' });
  }
  return cwd;
}

/** `env` as the API shows it: secret references as written, literal values hidden. */
export function envView(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, /^\s*\{\{\s*\$secrets\.[A-Za-z0-9_]+\s*\}\}\s*$/.test(v) ? v : '[hidden]']),
  );
}
