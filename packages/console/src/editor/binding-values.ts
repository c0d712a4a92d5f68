/**
 * How a binding is typed into a text field and read back. References (`$node.path`) and
 * templates (`{{ … }}`) stay strings; other text is read as JSON when it parses (numbers,
 * booleans, objects), else kept as a string. So `200` is the number 200 and `hello` a string.
 */
export function bindingToText(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

export function textToBinding(text: string): unknown {
  const t = text.trim();
  if (t === '') return undefined;
  if (t.startsWith('$') || t.includes('{{')) return text;
  try {
    return JSON.parse(t);
  } catch {
    return text;
  }
}

/** The properties of an object JSON Schema, for a form; empty when the schema is not one. */
export function schemaProperties(schema: unknown): { name: string; type?: string; description?: string; required: boolean }[] {
  if (!schema || typeof schema !== 'object') return [];
  const s = schema as { properties?: Record<string, { type?: unknown; description?: unknown }>; required?: unknown };
  if (!s.properties || typeof s.properties !== 'object') return [];
  const req = new Set(Array.isArray(s.required) ? s.required.map(String) : []);
  return Object.entries(s.properties).map(([name, p]) => {
    const prop: { name: string; type?: string; description?: string; required: boolean } = { name, required: req.has(name) };
    if (p && typeof p.type === 'string') prop.type = p.type;
    if (p && typeof p.description === 'string') prop.description = p.description;
    return prop;
  });
}
