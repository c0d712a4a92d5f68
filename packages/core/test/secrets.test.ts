/**
 * `{{ $secrets.NAME }}`: allowed only in http.request header values and URL query (save-time
 * SECRET_NOT_ALLOWED_HERE elsewhere), and never evaluated — bindings resolve it to the
 * placeholder `[secret:NAME]` without touching the expression evaluator.
 */
import { describe, expect, it } from 'vitest';
import { compile, prepareBindings, secretUses, splitSecretTemplate } from '../src/index.ts';

const http = (input: unknown) => ({
  name: 'w',
  nodes: [
    { id: 'a', type: 'transform', expression: '1' },
    { id: 'call', type: 'tool_call', tool: 'http.request', input },
  ],
  edges: [{ from: 'a', to: 'call' }],
});

function codes(def: unknown): { code: string; path?: string }[] {
  const r = compile(def);
  return r.ok ? [] : r.errors.map((e) => ({ code: e.code, path: e.path }));
}

describe('secret references at save', () => {
  it('are allowed in http.request header values and the URL query', () => {
    const def = http({
      url: 'https://api.example.com/v1/items?key={{ $secrets.API_KEY }}&q={{ $a }}',
      headers: { Authorization: 'Bearer {{ $secrets.TOKEN }}', 'X-Key': '{{ $secrets.API_KEY }}' },
    });
    expect(codes(def)).toEqual([]);
    expect(secretUses(def as never).map((u) => [u.name, u.path])).toEqual([
      ['API_KEY', '/nodes/1/input/url'],
      ['TOKEN', '/nodes/1/input/headers/Authorization'],
      ['API_KEY', '/nodes/1/input/headers/X-Key'],
    ]);
  });

  it.each([
    ['the URL path', http({ url: 'https://api.example.com/{{ $secrets.K }}/x' }), '/nodes/1/input/url'],
    ['the URL fragment', http({ url: 'https://api.example.com/x?a=1#{{ $secrets.K }}' }), '/nodes/1/input/url'],
    ['the body', http({ url: 'https://x.example', body: { k: '{{ $secrets.K }}' } }), '/nodes/1/input/body/k'],
    [
      'a computed header',
      http({ url: 'https://x.example', headers: { A: '{{ $uppercase($secrets.K) }}' } }),
      '/nodes/1/input/headers/A',
    ],
    ['a plain reference', http({ url: 'https://x.example', headers: { A: '$secrets.K' } }), '/nodes/1/input/headers/A'],
    [
      'a transform',
      { name: 'w', nodes: [{ id: 't', type: 'transform', expression: '$secrets.K' }], edges: [] },
      '/nodes/0/expression',
    ],
    [
      'an agent message',
      { name: 'w', nodes: [{ id: 'g', type: 'agent_call', agent: 'x', message: 'key {{ $secrets.K }}' }], edges: [] },
      '/nodes/0/message',
    ],
    [
      'a gate prompt',
      { name: 'w', nodes: [{ id: 'g', type: 'human_gate', prompt: '{{ $secrets.K }}' }], edges: [] },
      '/nodes/0/prompt',
    ],
    [
      'another tool',
      {
        name: 'w',
        nodes: [{ id: 'c', type: 'tool_call', tool: 'pricing/quote', input: { headers: { A: '{{ $secrets.K }}' } } }],
        edges: [],
      },
      '/nodes/0/input/headers/A',
    ],
    [
      'the output',
      { name: 'w', nodes: [{ id: 't', type: 'transform', expression: '1' }], edges: [], output: { x: '{{ $secrets.K }}' } },
      '/output/x',
    ],
  ])('are refused in %s', (_what, def, path) => {
    expect(codes(def)).toContainEqual({ code: 'SECRET_NOT_ALLOWED_HERE', path });
  });

  it('reserves "secrets" as a node id', () => {
    const r = compile({ name: 'w', nodes: [{ id: 'secrets', type: 'transform', expression: '1' }], edges: [] });
    expect(r.ok).toBe(false);
  });
});

describe('secret references when bindings resolve', () => {
  it('become [secret:NAME] placeholders without evaluation, other parts resolve as usual', async () => {
    const b = prepareBindings({
      url: 'https://x.example/?k={{ $secrets.K }}&n={{ $a.n }}',
      headers: { Authorization: 'Bearer {{ $secrets.TOKEN }}', Whole: '{{ $secrets.K }}' },
    });
    expect(await b.resolve({ a: { n: 5 } })).toEqual({
      url: 'https://x.example/?k=[secret:K]&n=5',
      headers: { Authorization: 'Bearer [secret:TOKEN]', Whole: '[secret:K]' },
    });
    expect(splitSecretTemplate('Bearer {{ $secrets.T }}')).toEqual([
      { kind: 'text', text: 'Bearer ' },
      { kind: 'secret', name: 'T' },
    ]);
    expect(splitSecretTemplate('no secrets {{ $a }}')).toBeUndefined();
  });
});
