/**
 * The start-run form's model, generated from the workflow's `inputSchema`: one field per
 * top-level property, read back into the run input with the property's type. Anything the
 * form cannot express (nested objects, arrays) is a JSON field.
 */
export type FieldKind = 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'json';

export interface InputField {
  name: string;
  kind: FieldKind;
  required: boolean;
  description?: string;
  options?: string[];
  defaultText: string;
}

export function inputFields(schema: unknown): InputField[] {
  if (!schema || typeof schema !== 'object') return [];
  const s = schema as { properties?: Record<string, Record<string, unknown>>; required?: unknown };
  if (!s.properties) return [];
  const req = new Set(Array.isArray(s.required) ? s.required.map(String) : []);
  return Object.entries(s.properties).map(([name, p]) => {
    const t = p?.type;
    const kind: FieldKind = Array.isArray(p?.enum)
      ? 'enum'
      : t === 'string' || t === 'number' || t === 'integer' || t === 'boolean'
        ? t
        : 'json';
    const f: InputField = {
      name,
      kind,
      required: req.has(name),
      defaultText: p?.default === undefined ? '' : typeof p.default === 'string' ? p.default : JSON.stringify(p.default),
    };
    if (typeof p?.description === 'string') f.description = p.description;
    if (kind === 'enum') f.options = (p.enum as unknown[]).map((o) => (typeof o === 'string' ? o : JSON.stringify(o)));
    return f;
  });
}

/** Reads the form's texts into an input object; `errors` by field name, saying what to fix. */
export function readInput(
  fields: readonly InputField[],
  texts: Record<string, string>,
): { input: Record<string, unknown>; errors: Record<string, string> } {
  const input: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const t = texts[f.name] ?? '';
    if (t.trim() === '' && f.kind !== 'boolean') {
      if (f.required) errors[f.name] = 'Required.';
      continue;
    }
    switch (f.kind) {
      case 'string':
        input[f.name] = t;
        break;
      case 'number':
      case 'integer': {
        const n = Number(t);
        if (!Number.isFinite(n) || (f.kind === 'integer' && !Number.isInteger(n)))
          errors[f.name] = `Enter ${f.kind === 'integer' ? 'a whole number' : 'a number'}.`;
        else input[f.name] = n;
        break;
      }
      case 'boolean':
        input[f.name] = t === 'true';
        break;
      case 'enum': {
        try {
          input[f.name] = JSON.parse(t);
        } catch {
          input[f.name] = t;
        }
        break;
      }
      case 'json':
        try {
          input[f.name] = JSON.parse(t);
        } catch {
          errors[f.name] = 'Not valid JSON.';
        }
        break;
    }
  }
  return { input, errors };
}

/**
 * The form's texts for an earlier run's input ("re-run with this input"): one text per field,
 * as the user would type it. `raw` when the form cannot hold the input exactly (not an object,
 * keys the schema does not name, a value of another type): then edit it as JSON.
 */
export function textsFromInput(fields: readonly InputField[], input: unknown): { texts: Record<string, string>; raw: boolean } {
  const texts: Record<string, string> = {};
  for (const f of fields) texts[f.name] = f.kind === 'boolean' ? 'false' : '';
  if (input === null || typeof input !== 'object' || Array.isArray(input) || fields.length === 0)
    return { texts, raw: input !== undefined && !(isEmptyObject(input) && fields.length > 0) };
  const byName = new Map(fields.map((f) => [f.name, f]));
  let raw = false;
  for (const [k, v] of Object.entries(input as Record<string, unknown>)) {
    const f = byName.get(k);
    if (!f) {
      raw = true;
      continue;
    }
    if (f.kind === 'string' && typeof v === 'string') texts[k] = v;
    else if ((f.kind === 'number' || f.kind === 'integer') && typeof v === 'number') texts[k] = String(v);
    else if (f.kind === 'boolean' && typeof v === 'boolean') texts[k] = String(v);
    else if (f.kind === 'enum') texts[k] = typeof v === 'string' ? v : JSON.stringify(v);
    else if (f.kind === 'json') texts[k] = JSON.stringify(v);
    else raw = true;
  }
  return { texts, raw };
}

function isEmptyObject(v: unknown): boolean {
  return v !== null && typeof v === 'object' && Object.keys(v).length === 0;
}
