/**
 * Data-aware editing and history, the headless parts: suggestions from a run's real outputs,
 * previews with the core's own evaluator, test results laid over the data, the history's
 * filters, "re-run with this input", questions with their answers, skill details.
 */
import type { RunEvent, RunRecord } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import type { Agent } from '../src/api/types.ts';
import { agentDescription, skillDetails, workflowWithSkill, workflowWithTool } from '../src/app/agent-skills.ts';
import { schemaProperties } from '../src/editor/binding-values.ts';
import { docFromDefinition } from '../src/editor/convert.ts';
import {
  dataSuggestions,
  previewBinding,
  previewExpression,
  previewText,
  runDataFromRecord,
  scopeFor,
  valuePaths,
  withTestResult,
} from '../src/editor/run-data.ts';
import { historyQuery, localDayStart } from '../src/run/history-filters.ts';
import { inputFields, textsFromInput } from '../src/run/input-form.ts';
import { askerOf, offsetMs, questionsOf, timeWithMs } from '../src/run/questions.ts';

const doc = docFromDefinition({
  name: 'trip',
  inputSchema: { type: 'object', properties: { city: { type: 'string' } } },
  nodes: [
    { id: 'search', type: 'agent_call', agent: 'hotels', input: { city: '$context.city' } },
    { id: 'pick', type: 'transform', expression: '$search.hotels[0].name' },
    { id: 'other', type: 'transform', expression: '1' },
  ],
  edges: [{ from: 'search', to: 'pick' }],
});

const node = (status: string, output: unknown, extra: Record<string, unknown> = {}) =>
  ({ status, output, input: null, error: null, costUsd: 0, startedAt: null, finishedAt: null, attempts: [], ...extra }) as never;

const record = {
  id: 'run_1',
  input: { city: 'Oslo' },
  createdAt: '2026-01-01T00:00:00.000Z',
  nodes: {
    search: node('succeeded', { hotels: [{ name: 'Grand', price: 120, 'check-in': '14:00', 'a b': 1 }], count: 1 }),
    pick: node('succeeded', 'Grand'),
    other: node('succeeded', 1),
  },
} as unknown as RunRecord;

describe('suggestions from the run data', () => {
  it('follows the real shape of outputs: $search.hotels[0].name', () => {
    const paths = valuePaths('$search', (record.nodes.search as { output: unknown }).output);
    expect(paths).toEqual([
      '$search',
      '$search.hotels',
      '$search.count',
      '$search.hotels[0]',
      '$search.hotels[0].name',
      '$search.hotels[0].price',
      '$search.hotels[0].check-in',
      '$search.hotels[0]["a b"]',
    ]);
    expect(valuePaths('$x', { a: { b: { c: { d: { e: 1 } } } } }, 2)).toEqual(['$x', '$x.a', '$x.a.b']);
    expect(valuePaths('$x', Array.from({ length: 100 }, (_, i) => ({ [`k${i}`]: i }))[0], 4, 3)).toHaveLength(2);
  });

  it('offers the context and ancestors only (never BINDING_NOT_UPSTREAM)', () => {
    const data = runDataFromRecord(record);
    const s = dataSuggestions(doc, 'pick', data);
    expect(s).toContain('$search.hotels[0].name');
    expect(s).toContain('$context.city');
    expect(s.some((x) => x.startsWith('$other'))).toBe(false);
    expect(s.some((x) => x.startsWith('$pick'))).toBe(false);
    expect(dataSuggestions(doc, 'pick', undefined)).toEqual([]);
    // An edge condition sees its source too.
    expect(dataSuggestions(doc, 'pick', data, true)).toContain('$pick');
  });

  it('scopes like the engine: context, ancestors, null for an ancestor without output', () => {
    const data = runDataFromRecord({ ...record, nodes: { search: node('failed', null) } } as unknown as RunRecord);
    expect(scopeFor(doc, 'pick', data)).toEqual({ context: { city: 'Oslo' }, search: null });
  });
});

describe('previews', () => {
  const scope = scopeFor(doc, 'pick', runDataFromRecord(record));
  it('resolves references, templates and literals as the engine does', async () => {
    expect(await previewBinding('$search.hotels[0].name', scope)).toEqual({ ok: true, value: 'Grand' });
    expect(await previewBinding('{{ $search.hotels[0].price * 2 }}', scope)).toEqual({ ok: true, value: 240 });
    expect(await previewBinding('Stay in {{ $context.city }}', scope)).toEqual({ ok: true, value: 'Stay in Oslo' });
    expect(await previewBinding({ n: '$search.count', k: 5 }, scope)).toEqual({ ok: true, value: { n: 1, k: 5 } });
    expect(await previewBinding('$search.nope', scope)).toEqual({ ok: true, value: null });
    expect(await previewBinding('$secrets.KEY', scope)).toEqual({ ok: true, value: null });
  });
  it('evaluates expressions and reports errors instead of throwing', async () => {
    expect(await previewExpression('$search.count > 0', scope)).toEqual({ ok: true, value: true });
    const bad = await previewExpression('$search.hotels[', scope);
    expect(bad.ok).toBe(false);
    const err = await previewBinding('{{ $undefinedFn() }}', scope);
    expect(err.ok).toBe(false);
  });
  it('shows values as one short line', () => {
    expect(previewText('x'.repeat(500), 10)).toBe(`"${'x'.repeat(8)}…`);
    expect(previewText(undefined)).toBe('(nothing)');
    expect(previewText({ a: 1 })).toBe('{"a":1}');
  });
});

describe('test results over the run data', () => {
  it('replaces the outputs of executed nodes, keeps reused ones, marks them tested', () => {
    const data = runDataFromRecord(record);
    const test = {
      id: 'run_t',
      input: { city: 'Oslo' },
      nodes: { search: node('succeeded', { x: 1 }, { reusedFrom: 'run_1' }), pick: node('succeeded', 'GRAND') },
    } as unknown as RunRecord;
    const next = withTestResult(data, test);
    expect(next.outputs.pick).toBe('GRAND');
    expect(next.outputs.search).toEqual(data.outputs.search);
    expect(next.tested).toEqual(['pick']);
    expect(next.runId).toBe('run_1');
    const fresh = withTestResult(undefined, test);
    expect(fresh).toMatchObject({ runId: 'run_t', scratch: true });
  });
});

describe('history', () => {
  it('turns the filter form into the API query (local days, "to" inclusive)', () => {
    expect(historyQuery({ status: '', from: '', to: '', origin: '' })).toEqual({});
    const q = historyQuery({ status: 'failed', from: '2026-03-01', to: '2026-03-02', origin: 'webhook' });
    expect(q.status).toEqual(['failed']);
    expect(q.origin).toBe('webhook');
    expect(Date.parse(q.until!) - Date.parse(q.since!)).toBeGreaterThanOrEqual(47 * 3600_000);
    expect(localDayStart('2026-13-45x')).toBeUndefined();
  });
  it('prefills the start form with an earlier input, or falls back to JSON', () => {
    const fields = inputFields({
      type: 'object',
      properties: { city: { type: 'string' }, nights: { type: 'integer' }, vip: { type: 'boolean' }, tags: { type: 'array' } },
    });
    expect(textsFromInput(fields, { city: 'Oslo', nights: 2, vip: true, tags: ['a'] })).toEqual({
      texts: { city: 'Oslo', nights: '2', vip: 'true', tags: '["a"]' },
      raw: false,
    });
    expect(textsFromInput(fields, { city: 'Oslo', extra: 1 }).raw).toBe(true);
    expect(textsFromInput(fields, { nights: 'two' }).raw).toBe(true);
    expect(textsFromInput([], { any: 1 }).raw).toBe(true);
    expect(textsFromInput(fields, {}).raw).toBe(false);
  });
  it('pairs an agent question with its answer; times carry milliseconds', () => {
    const ev = (seq: number, type: string, data: unknown, nodeId = 'ask'): RunEvent =>
      ({ seq, runId: 'r', type, nodeId, at: `2026-01-01T10:00:00.${String(seq).padStart(3, '0')}Z`, data }) as RunEvent;
    const events = [
      ev(1, 'node.waiting', { prompt: 'Which city?', attempt: 1 }),
      ev(2, 'gate.approved', { by: 'alice', comment: 'Oslo' }),
      ev(3, 'node.waiting', { prompt: 'How many nights?', attempt: 1 }),
      ev(4, 'node.waiting', { prompt: 'other node', attempt: 1 }, 'gate'),
    ];
    expect(questionsOf(events, 'ask')).toEqual([
      { prompt: 'Which city?', at: events[0]!.at, answer: { approved: true, by: 'alice', text: 'Oslo', at: events[1]!.at } },
      { prompt: 'How many nights?', at: events[2]!.at },
    ]);
    expect(timeWithMs('2026-01-01T10:00:00.042Z')).toMatch(/^\d\d:\d\d:00\.042$/);
    expect(offsetMs('2026-01-01T10:00:00.000Z', '2026-01-01T10:00:01.234Z')).toBe('+1,234 ms');
    expect(askerOf({ type: 'agent_call', agent: 'planner' })).toBe('planner');
    expect(askerOf({ type: 'human_gate' })).toBeUndefined();
  });
});

describe('skills and tools described', () => {
  const agent: Agent = {
    id: 'ag_1',
    name: 'hotels',
    url: 'http://x',
    skills: [{ id: 'search', name: 'Search', description: 'Finds hotels', tags: ['travel'] }],
    card: {
      description: 'Hotel agent',
      defaultInputModes: ['text/plain'],
      defaultOutputModes: ['application/json'],
      skills: [{ id: 'search', examples: ['Hotels in Oslo'], outputModes: ['text/plain', 'application/json'] }],
    },
  };
  it('reads examples and modes from the card (skill first, then the agent defaults)', () => {
    expect(skillDetails(agent, agent.skills[0]!)).toEqual({
      id: 'search',
      name: 'Search',
      description: 'Finds hotels',
      tags: ['travel'],
      examples: ['Hotels in Oslo'],
      inputModes: ['text/plain'],
      outputModes: ['text/plain', 'application/json'],
    });
    expect(agentDescription(agent)).toBe('Hotel agent');
  });
  it('builds input forms from an MCP inputSchema: types, required, descriptions, enums, defaults', () => {
    const fields = schemaProperties({
      type: 'object',
      required: ['city'],
      properties: {
        city: { type: 'string', description: 'City name' },
        nights: { type: 'integer', default: 1 },
        sort: { enum: ['price', 'rating'] },
        ids: { type: 'array', items: { type: 'number' } },
        when: { anyOf: [{ type: 'string' }, { type: 'null' }] },
      },
    });
    expect(fields).toEqual([
      { name: 'city', type: 'string', description: 'City name', required: true },
      { name: 'nights', type: 'integer', required: false, default: 1 },
      { name: 'sort', type: 'enum', required: false, enum: ['price', 'rating'] },
      { name: 'ids', type: 'array of number', required: false },
      { name: 'when', type: 'string | null', required: false },
    ]);
  });
  it('"new workflow with this skill/tool" starts a valid one-node definition', () => {
    const s = workflowWithSkill(agent, agent.skills[0]!) as unknown as { nodes: Record<string, unknown>[] };
    expect(s.nodes[0]).toMatchObject({ type: 'agent_call', agent: 'hotels', skill: 'search' });
    const t = workflowWithTool({
      name: 'pricing/quote',
      inputSchema: { type: 'object', properties: { sku: { type: 'string' } }, required: ['sku'] },
    }) as unknown as { nodes: Record<string, unknown>[]; inputSchema: unknown };
    expect(t.nodes[0]).toMatchObject({ id: 'quote', type: 'tool_call', tool: 'pricing/quote', input: { sku: '$context.sku' } });
    expect(t.inputSchema).toEqual({ type: 'object', properties: { sku: { type: 'string' } }, required: ['sku'] });
  });
});
