/**
 * The questions a node asked during a run, each with its answer, read from the event log: an
 * agent's input-required (or a gate's prompt) is a `node.waiting` event; the answer is the
 * `gate.approved` (answered: the comment is the reply text, `data` any structured reply) or
 * `gate.rejected` (declined) that follows it for the same node.
 */
import type { RunEvent } from '@trellis/core';

export interface Answer {
  approved: boolean;
  by: string;
  text?: string;
  data?: unknown;
  at: string;
}

export interface Question {
  prompt: string;
  at: string;
  answer?: Answer;
}

export function questionsOf(events: readonly RunEvent[], nodeId: string): Question[] {
  const out: Question[] = [];
  for (const e of events) {
    if (e.nodeId !== nodeId || e.item !== undefined) continue;
    if (e.type === 'node.waiting') {
      const d = e.data as { prompt?: unknown };
      out.push({ prompt: typeof d.prompt === 'string' ? d.prompt : '', at: e.at });
    } else if (e.type === 'gate.approved' || e.type === 'gate.rejected') {
      const open = out.findLast((q) => q.answer === undefined);
      if (!open) continue;
      const d = e.data as { by?: unknown; comment?: unknown; data?: unknown };
      const answer: Answer = { approved: e.type === 'gate.approved', by: String(d.by ?? ''), at: e.at };
      if (typeof d.comment === 'string') answer.text = d.comment;
      if (d.data !== undefined) answer.data = d.data;
      open.answer = answer;
    }
  }
  return out;
}

/** An event time with milliseconds, in the user's time zone: `14:03:07.042`. */
export function timeWithMs(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** Milliseconds from `start` to `iso` (`+1,234 ms`); '' when either is not a time. */
export function offsetMs(start: string | undefined, iso: string): string {
  if (start === undefined) return '';
  const ms = Date.parse(iso) - Date.parse(start);
  return Number.isFinite(ms) ? `+${ms.toLocaleString('en-US')} ms` : '';
}

/** The agent a waiting node asks for, when it is an agent_call (its question is not a gate). */
export function askerOf(node: { type: string; agent?: unknown } | undefined): string | undefined {
  if (node?.type !== 'agent_call') return undefined;
  return typeof node.agent === 'string' && node.agent ? node.agent : 'The agent';
}
