/**
 * Agent answers read leniently where the intent is unambiguous (docs/compatibility.md), before
 * the official SDK parses them. Two deviations of VoltAgent's A2A server (@voltagent/a2a-server,
 * its own JSON-RPC implementation):
 * - each SSE event's data starts with an ASCII record separator (0x1E, as in RFC 7464 JSON text
 *   sequences). Raw 0x1E can never be part of JSON text (control characters in strings are
 *   escaped), so the byte is removed from every event stream; a chunk without it is untouched;
 * - results carry no `kind` (`"task"`, `"message"`, …), which v0.3 requires and the SDK needs to
 *   tell them apart. The shape tells: `messageId` + `parts` is a message, `taskId` + `artifact` an
 *   artifact update, `taskId` + `status` a status update, `id` + `status` a task. A result of a
 *   JSON answer is looked at once (no second parse); a stream's first event is parsed once to
 *   see whether its result lacks `kind` — if it has one, the rest of the stream passes as it
 *   comes, else every event is rewritten with its `kind`.
 */

const RS = 0x1e;

/** The `kind` a v0.3 result of this shape has, or undefined when it has one or the shape says nothing. */
export function inferredKind(result: unknown): string | undefined {
  if (!result || typeof result !== 'object' || Array.isArray(result)) return undefined;
  const r = result as Record<string, unknown>;
  if (typeof r.kind === 'string') return undefined;
  if (typeof r.messageId === 'string' && Array.isArray(r.parts)) return 'message';
  if (typeof r.taskId === 'string' && r.artifact && typeof r.artifact === 'object') return 'artifact-update';
  if (typeof r.taskId === 'string' && r.status && typeof r.status === 'object') return 'status-update';
  if (typeof r.id === 'string' && r.status && typeof r.status === 'object') return 'task';
  return undefined;
}

/** A JSON-RPC response with its result's `kind` filled in when missing (the same object otherwise). */
function withKind(response: unknown): { value: unknown; fixed: boolean } {
  const result = (response as { result?: unknown } | null)?.result;
  const kind = inferredKind(result);
  if (!kind) return { value: response, fixed: false };
  return { value: { ...(response as object), result: { kind, ...(result as object) } }, fixed: true };
}

/** `res` read leniently (see above); an answer that needs nothing is returned as it is, or with a pass-through body. */
export function lenientResponse(res: Response): Response {
  if (!res.body) return res;
  const type = res.headers.get('content-type') ?? '';
  if (/^text\/event-stream/i.test(type)) {
    return new Response(res.body.pipeThrough(eventStreamFixer()), {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
  }
  if (/json/i.test(type) && res.ok) {
    const json = res.json.bind(res);
    // The SDK reads a JSON-RPC answer with `json()`: the result's `kind` is filled in on the way.
    Object.defineProperty(res, 'json', { value: async () => withKind(await json()).value });
  }
  return res;
}

type Mode = 'probe' | 'fix' | 'pass';

function eventStreamFixer(): TransformStream<Uint8Array, Uint8Array> {
  let mode: Mode = 'probe';
  /** probe: the bytes so far, untouched (passed on as they are if the first event needs nothing). */
  let raw = new Uint8Array(0);
  /** fix: decoded text not yet rewritten. */
  let buffer = '';
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();

  /** Rewrites one event block (`field: value` lines); in probe mode decides the mode from it. */
  const rewrite = (block: string): string => {
    const lines = block.split(/\r?\n/);
    const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, ''));
    if (data.length === 0) return block;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.join('\n'));
    } catch {
      if (mode === 'probe') mode = 'pass';
      return block;
    }
    const { value, fixed } = withKind(parsed);
    if (mode === 'probe') mode = fixed ? 'fix' : 'pass';
    if (!fixed) return block;
    return [...lines.filter((l) => !l.startsWith('data:')), `data: ${JSON.stringify(value)}`].join('\n');
  };

  const drainText = (controller: TransformStreamDefaultController<Uint8Array>, final: boolean) => {
    for (;;) {
      const m = /\r?\n\r?\n/.exec(buffer);
      if (!m) break;
      const block = buffer.slice(0, m.index);
      buffer = buffer.slice(m.index + m[0].length);
      controller.enqueue(encoder.encode(`${rewrite(block)}\n\n`));
    }
    if (final && buffer) {
      controller.enqueue(encoder.encode(buffer));
      buffer = '';
    }
  };

  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      const clean = chunk.indexOf(RS) < 0 ? chunk : chunk.filter((b) => b !== RS);
      if (mode === 'pass') {
        controller.enqueue(clean);
        return;
      }
      if (mode === 'fix') {
        buffer += decoder.decode(clean, { stream: true });
        drainText(controller, false);
        return;
      }
      const joined = new Uint8Array(raw.length + clean.length);
      joined.set(raw);
      joined.set(clean, raw.length);
      raw = joined;
      const end = eventEnd(raw);
      if (!end) return;
      const rewritten = rewrite(decoder.decode(raw.subarray(0, end.at)));
      if ((mode as Mode) !== 'fix') {
        controller.enqueue(raw);
        raw = new Uint8Array(0);
        return;
      }
      controller.enqueue(encoder.encode(`${rewritten}\n\n`));
      buffer = decoder.decode(raw.subarray(end.at + end.length), { stream: true });
      raw = new Uint8Array(0);
      drainText(controller, false);
    },
    flush(controller) {
      if (raw.length > 0) controller.enqueue(raw);
      if (mode === 'fix') {
        buffer += decoder.decode();
        drainText(controller, true);
      }
    },
  });
}

/** Where the first SSE event in `bytes` ends (a blank line: LF LF or CRLF CRLF). */
function eventEnd(bytes: Uint8Array): { at: number; length: number } | undefined {
  for (let i = 0; i + 1 < bytes.length; i++) {
    if (bytes[i] !== 10) continue;
    if (bytes[i + 1] === 10) return { at: i, length: 2 };
    if (bytes[i + 1] === 13 && bytes[i + 2] === 10) return { at: i, length: 3 };
  }
  return undefined;
}
