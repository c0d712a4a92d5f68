/**
 * A run's input with its `inputSchema` defaults filled in — the one place defaults are applied,
 * whatever starts the run (the API, the console, `trellis run`, a trigger): the engine calls this
 * before it validates and stores the input, so the run record shows the input the run really had.
 *
 * Rules (JSON Schema `default` as users of forms expect it): a property that is absent (or
 * `undefined`) gets its schema's `default`; an explicit `null` is kept (it is a value). Nested
 * object schemas get their own defaults, also when the parent object itself was filled from a
 * default; an absent nested object without a default stays absent. A missing input
 * (`undefined`/`null`) for an object schema starts as `{}` so its properties' defaults apply.
 * Nothing is mutated; defaults are copied with structuredClone.
 */
type Schema = { type?: unknown; default?: unknown; properties?: unknown };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Fills `value` (one level of the input) from `schema`'s defaults; see the rules above. */
function fill(schema: unknown, value: unknown): unknown {
  if (!isPlainObject(schema)) return value;
  const s = schema as Schema;
  const v = value === undefined && s.default !== undefined ? structuredClone(s.default) : value;
  if (!isPlainObject(v) || !isPlainObject(s.properties)) return v;
  let out = v;
  for (const [key, sub] of Object.entries(s.properties)) {
    const current = v[key];
    const next = fill(sub, current);
    if (next !== current && next !== undefined) {
      if (out === value) out = { ...v };
      out[key] = next;
    }
  }
  return out;
}

export function applyInputDefaults(schema: unknown, input: unknown): unknown {
  if (!isPlainObject(schema)) return input;
  const objectSchema = schema.type === 'object' || (schema.type === undefined && isPlainObject(schema.properties));
  return fill(schema, (input === undefined || input === null) && objectSchema && schema.default === undefined ? {} : input);
}
