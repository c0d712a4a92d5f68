/**
 * Reads a set of numeric limits: defaults, overridden by the environment, then by options; a
 * value that is not a whole number from 1 to its ceiling throws an error naming its variable
 * (a host stops at start rather than run with a limit it misread).
 */
export function readLimits<L extends { [K in keyof L]: number }>(
  spec: {
    defaults: Readonly<L>;
    env: Readonly<Record<keyof L, string>>;
    ceilings: Readonly<Record<keyof L, number>>;
  },
  overrides: Partial<L>,
  env: Record<string, string | undefined>,
): L {
  const out: L = { ...spec.defaults };
  for (const key of Object.keys(spec.env) as (keyof L)[]) {
    const name = spec.env[key];
    const raw = env[name]?.trim();
    if (raw !== undefined && raw !== '') out[key] = check(Number(raw), name, raw, spec.ceilings[key]) as L[keyof L];
    const given = overrides[key];
    if (given !== undefined) out[key] = check(given, String(key), String(given), spec.ceilings[key]) as L[keyof L];
  }
  return out;
}

function check(n: number, name: string, raw: string, ceiling: number): number {
  if (!Number.isInteger(n) || n < 1 || n > ceiling)
    throw new Error(`${name} must be a whole number from 1 to ${ceiling}, got "${raw}"`);
  return n;
}
