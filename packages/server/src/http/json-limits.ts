/**
 * Bounds on parsed JSON bodies, measured without recursion: a body nested thousands of levels
 * deep parses fine but makes every recursive consumer (JSON.stringify, schema validators,
 * the engine's persistence) overflow the stack. Such bodies are refused at the edge with 400.
 */
export const MAX_JSON_DEPTH = 128;

export interface JsonShape {
  depth: number;
  /** Approximate size of the value serialised as JSON, in bytes (UTF-16 code units). */
  bytes: number;
}

/** Depth and approximate serialised size, walking with an explicit stack. Stops early past `maxDepth`. */
export function measureJson(value: unknown, maxDepth = MAX_JSON_DEPTH): JsonShape {
  let depth = 0;
  let bytes = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (d > depth) depth = d;
    if (depth > maxDepth) return { depth, bytes };
    if (v === null || v === undefined) bytes += 4;
    else if (typeof v === 'string') bytes += v.length + 2;
    else if (typeof v === 'number' || typeof v === 'boolean') bytes += String(v).length;
    else if (Array.isArray(v)) {
      bytes += 2 + v.length;
      for (const x of v) stack.push([x, d + 1]);
    } else if (typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>);
      bytes += 2 + entries.length;
      for (const [k, x] of entries) {
        bytes += k.length + 3;
        stack.push([x, d + 1]);
      }
    }
  }
  return { depth, bytes };
}
