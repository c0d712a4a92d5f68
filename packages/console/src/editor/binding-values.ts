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

/** One field of an input form, from a property of an object JSON Schema. */
export interface SchemaField {
  name: string;
  type?: string;
  description?: string;
  required: boolean;
  /** The schema's `enum` values, offered as choices. */
  enum?: unknown[];
  default?: unknown;
}

/**
 * The properties of an object JSON Schema (an MCP tool's `inputSchema`, a skill's), for a form:
 * name, type (`string`, `integer`, `array of string`, `a | b` for unions), required,
 * description, enum and default. Empty when the schema is not an object schema.
 */
export function schemaProperties(schema: unknown): SchemaField[] {
  if (!schema || typeof schema !== 'object') return [];
  const s = schema as { properties?: Record<string, unknown>; required?: unknown };
  if (!s.properties || typeof s.properties !== 'object') return [];
  const req = new Set(Array.isArray(s.required) ? s.required.map(String) : []);
  return Object.entries(s.properties).map(([name, raw]) => {
    const p = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
    const prop: SchemaField = { name, required: req.has(name) };
    const type = typeName(p);
    if (type) prop.type = type;
    if (typeof p.description === 'string') prop.description = p.description;
    else if (typeof p.title === 'string') prop.description = p.title;
    if (Array.isArray(p.enum)) prop.enum = p.enum;
    else if (p.const !== undefined) prop.enum = [p.const];
    if (p.default !== undefined) prop.default = p.default;
    return prop;
  });
}

function typeName(p: Record<string, unknown>): string | undefined {
  const t = p.type;
  if (typeof t === 'string') {
    if (t === 'array' && p.items && typeof p.items === 'object') {
      const inner = typeName(p.items as Record<string, unknown>);
      return inner ? `array of ${inner}` : 'array';
    }
    return t;
  }
  if (Array.isArray(t)) return t.filter((x) => typeof x === 'string').join(' | ') || undefined;
  for (const k of ['anyOf', 'oneOf'] as const) {
    const list = p[k];
    if (Array.isArray(list)) {
      const names = list.map((x) => (x && typeof x === 'object' ? typeName(x as Record<string, unknown>) : undefined));
      if (names.every((n) => n !== undefined)) return [...new Set(names)].join(' | ');
    }
  }
  if (Array.isArray(p.enum)) return 'enum';
  return undefined;
}
