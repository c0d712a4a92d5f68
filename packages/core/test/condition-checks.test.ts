/** Branching warnings: an unconditional edge out of a condition node, and bare names such as `tru`. */
import { describe, expect, it } from 'vitest';
import { bareScopeNames, compile, suggestForBareName } from '../src/index.ts';

const base = (edges: unknown[], expression = '$context.n > 3') => ({
  name: 'w',
  nodes: [
    { id: 'check', type: 'condition', expression },
    { id: 'yes', type: 'transform', expression: '1' },
    { id: 'no', type: 'transform', expression: '2' },
  ],
  edges,
});

describe('condition checks (warnings, never errors)', () => {
  it('warns for an edge that leaves a condition node without a condition, and still compiles', () => {
    const r = compile(
      base([
        { from: 'check', to: 'yes', condition: '$check.value = true' },
        { from: 'check', to: 'no' },
      ]),
    );
    expect(r.ok).toBe(true);
    expect(r.warnings).toEqual([
      expect.objectContaining({ code: 'CONDITION_EDGE_WITHOUT_CONDITION', path: '/edges/1', nodes: ['check', 'no'] }),
    ]);
    expect(r.warnings[0]?.message).toContain('$check.value = true');
  });

  it('says nothing when both edges have conditions', () => {
    const r = compile(
      base([
        { from: 'check', to: 'yes', condition: '$check.value = true' },
        { from: 'check', to: 'no', condition: '$check.value = false' },
      ]),
    );
    expect(r.warnings).toEqual([]);
  });

  it('flags `tru` in a comparison and suggests `true`', () => {
    const r = compile(
      base([
        { from: 'check', to: 'yes', condition: '$check.value = tru' },
        { from: 'check', to: 'no', condition: '$check.value = false' },
      ]),
    );
    expect(r.ok).toBe(true);
    expect(r.warnings).toEqual([expect.objectContaining({ code: 'UNKNOWN_NAME', path: '/edges/0/condition' })]);
    expect(r.warnings[0]?.message).toMatch(/'tru' \(at character 15\).*did you mean true\?/);
  });

  it('flags bare names in node expressions but not paths after a variable, filters, context or node ids', () => {
    const r = compile(
      base(
        [{ from: 'check', to: 'yes', condition: '$check.value' }],
        'hotels > 0 and context.n > 1 and $context.items[price < 3] and check.value and $x.y',
      ),
    );
    const names = r.warnings.filter((w) => w.code === 'UNKNOWN_NAME').map((w) => w.path);
    expect(names).toEqual(['/nodes/0/expression']);
  });

  it('bareScopeNames: positions, and names read by operators, conditionals, blocks and function arguments', () => {
    expect(bareScopeNames('$a.value = tru')).toEqual([{ name: 'tru', start: 11 }]);
    expect(bareScopeNames('$count(hotels) > 0 ? yes : "no"').map((b) => b.name)).toEqual(['hotels', 'yes']);
    expect(bareScopeNames('($v := 1; $v > limit)').map((b) => b.name)).toEqual(['limit']);
    expect(bareScopeNames('$map($xs, function($v) { $v.name & other })')).toEqual([]);
    expect(bareScopeNames('$x.items[price < 3].name')).toEqual([]);
    expect(bareScopeNames('not valid (')).toEqual([]);
  });

  it('suggests literals and $-prefixed node ids', () => {
    expect(suggestForBareName('tru', [])).toBe('true');
    expect(suggestForBareName('flase', [])).toBe('false');
    expect(suggestForBareName('serch', ['search'])).toBe('$search');
    expect(suggestForBareName('zzzzzz', ['search'])).toBeUndefined();
  });
});
