/**
 * Agent answers read leniently: record separators dropped from event streams, a missing `kind`
 * inferred from the result's shape, and everything else passed through byte for byte — whatever
 * the chunking.
 */
import { describe, expect, it } from 'vitest';
import { inferredKind, lenientResponse } from '../src/a2a/lenient-response.ts';

const enc = new TextEncoder();

function sse(chunks: (string | Uint8Array)[]): Response {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const ch of chunks) c.enqueue(typeof ch === 'string' ? enc.encode(ch) : ch);
      c.close();
    },
  });
  return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
}

const task = (state: string) => ({ id: 't1', contextId: 'c1', status: { state }, history: [] });
const event = (result: unknown, rs = false) =>
  `data: ${rs ? '\x1e' : ''}${JSON.stringify({ jsonrpc: '2.0', id: 1, result })}\n\n`;

describe('lenient agent answers', () => {
  it('infers kind from the shape, and only when it is missing', () => {
    expect(inferredKind(task('working'))).toBe('task');
    expect(inferredKind({ messageId: 'm', parts: [] })).toBe('message');
    expect(inferredKind({ taskId: 't', status: { state: 'working' } })).toBe('status-update');
    expect(inferredKind({ taskId: 't', artifact: { parts: [] } })).toBe('artifact-update');
    expect(inferredKind({ ...task('working'), kind: 'task' })).toBeUndefined();
    expect(inferredKind({ something: 1 })).toBeUndefined();
    expect(inferredKind([1])).toBeUndefined();
  });

  it("rewrites VoltAgent's stream (record separators, no kind), split anywhere", async () => {
    const text = event(task('working'), true) + event(task('completed'), true);
    const bytes = enc.encode(text);
    for (const cut of [1, 7, 40, bytes.length - 3]) {
      const out = await lenientResponse(sse([bytes.subarray(0, cut), bytes.subarray(cut)])).text();
      const events = out
        .split('\n\n')
        .filter(Boolean)
        .map((e) => JSON.parse(e.replace(/^data: /, '')));
      expect(events.map((e) => [e.result.kind, e.result.status.state])).toEqual([
        ['task', 'working'],
        ['task', 'completed'],
      ]);
      expect(out).not.toContain('\x1e');
    }
  });

  it('passes a conforming stream through unchanged, CRLF and multi-byte characters included', async () => {
    const text = `${event({ ...task('working'), kind: 'task' }).replace(/\n/g, '\r\n')}: comment\n\n${event({ kind: 'status-update', taskId: 't1', status: { state: 'completed', note: 'café ✓' } })}`;
    const bytes = enc.encode(text);
    const cut = bytes.indexOf(0xc3) + 1; // inside "é"
    const out = await lenientResponse(sse([bytes.subarray(0, cut), bytes.subarray(cut)])).text();
    expect(out).toBe(text);
  });

  it("fills in a JSON answer's result kind when json() reads it, leaving conforming answers alone", async () => {
    const json = (body: unknown) => new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
    expect(await lenientResponse(json({ jsonrpc: '2.0', id: 1, result: task('completed') })).json()).toMatchObject({
      result: { kind: 'task', id: 't1' },
    });
    const conforming = { jsonrpc: '2.0', id: 1, result: { kind: 'message', messageId: 'm', parts: [] } };
    expect(await lenientResponse(json(conforming)).json()).toEqual(conforming);
    expect(await lenientResponse(json({ name: 'a card' })).json()).toEqual({ name: 'a card' });
  });
});
