/**
 * Registration headers as the forms edit them: one `Name: value` per line. Values may hold
 * `{{ $secrets.NAME }}` references (never values: the server resolves them per request).
 */
export function parseHeaderLines(text: string): { headers: Record<string, string>; error: string | undefined } {
  const headers: Record<string, string> = {};
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) return { headers, error: `line ${i + 1}: write "Header-Name: value"` };
    const name = line.slice(0, colon).trim();
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) return { headers, error: `line ${i + 1}: "${name}" is not a header name` };
    headers[name] = line.slice(colon + 1).trim();
  }
  return { headers, error: undefined };
}

/**
 * A stdio server's environment as the Tools form edits it: one `NAME=value` per line (values may
 * hold `{{ $secrets.NAME }}`).
 */
export function parseEnvLines(text: string): { env: Record<string, string>; error: string | undefined } {
  const env: Record<string, string> = {};
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0) return { env, error: `line ${i + 1}: write "NAME=value"` };
    const name = line.slice(0, eq).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      return { env, error: `line ${i + 1}: "${name}" is not a variable name (letters, digits, _)` };
    env[name] = line.slice(eq + 1).trim();
  }
  return { env, error: undefined };
}

/** Command-line arguments as the Tools form edits them: one per line, kept as typed (blank lines dropped). */
export function parseArgLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** A secret reference for a name: what forms and the inspector offer. */
export function secretRef(name: string): string {
  return `{{ $secrets.${name} }}`;
}

/** The secrets a workflow may use: global ones and its own. */
export function usableSecrets<T extends { name: string; scope: string }>(
  secrets: readonly T[],
  workflowId: string | undefined,
): T[] {
  return secrets.filter((s) => s.scope === 'global' || (workflowId !== undefined && s.scope === `workflow:${workflowId}`));
}
