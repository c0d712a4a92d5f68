import { describe, expect, it } from 'vitest';
import {
  compile,
  compileExpression,
  parsePathReference,
  prepareBindings,
  referencedVariables,
  renderTemplate,
  resolveBindings,
  TrellisError,
  tryCompileExpression,
} from '../src/index.ts';

const scope = {
  context: { query: 'paris', n: 3 },
  search: {
    hotels: [
      { name: 'Ritz', price: 900 },
      { name: 'Ibis', price: 80 },
    ],
    'odd key': 1,
  },
  skipped: null,
};

async function rejection(p: Promise<unknown>): Promise<TrellisError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TrellisError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('plain references', () => {
  it('parse $name.path with fields, indexes and quoted keys', () => {
    expect(parsePathReference('$search.hotels[1].name')).toEqual({ variable: 'search', steps: ['hotels', 1, 'name'] });
    expect(parsePathReference(`$search["odd key"]`)).toEqual({ variable: 'search', steps: ['odd key'] });
    expect(parsePathReference('$context')).toEqual({ variable: 'context', steps: [] });
  });

  it('money and prose are literals', () => {
    for (const s of ['$5', '$5.00', 'costs $5', '$a.b and more', '$', '$a.', '$a[x]', '$a..b'])
      expect(parsePathReference(s)).toBeUndefined();
  });

  it('resolve keeping the type; missing paths and skipped nodes are null', async () => {
    const out = await resolveBindings(
      {
        hotels: '$search.hotels',
        first: '$search.hotels[0]',
        price: '$search.hotels[1].price',
        q: '$context.query',
        missing: '$search.nope.deeper',
        fromSkipped: '$skipped.x',
        unknownVar: '$elsewhere.x',
        money: '$5',
        literal: { n: 1, list: [true, null, 'x'] },
        proto: '$search.constructor',
      },
      scope,
    );
    expect(out).toEqual({
      hotels: scope.search.hotels,
      first: { name: 'Ritz', price: 900 },
      price: 80,
      q: 'paris',
      missing: null,
      fromSkipped: null,
      unknownVar: null,
      money: '$5',
      literal: { n: 1, list: [true, null, 'x'] },
      proto: null,
    });
  });

  it('a prepared direct binding needs no JSONata and is reusable', async () => {
    const p = prepareBindings({ a: '$x.v', b: ['$y'] });
    expect(p.direct).toBe(true);
    expect(await p.resolve({ x: { v: 1 }, y: 2 })).toEqual({ a: 1, b: [2] });
    expect(await p.resolve({ x: { v: 'again' }, y: [3] })).toEqual({ a: 'again', b: [[3]] });
  });
});

describe('templates', () => {
  it('a string that is only {{ expr }} keeps the type', async () => {
    expect(await resolveBindings('{{ $count($search.hotels) }}', scope)).toBe(2);
    expect(await resolveBindings('{{ $search.hotels[price < 100] }}', scope)).toEqual({ name: 'Ibis', price: 80 });
    expect(await resolveBindings('{{ $search.nothing }}', scope)).toBeNull();
  });

  it('interpolates values as text among other text', async () => {
    expect(
      await resolveBindings('Book {{ $search.hotels[0].name }} for {{ $context.n }} nights {{ {"a": {"b": 1}} }}', scope),
    ).toBe('Book Ritz for 3 nights {"a":{"b":1}}');
    expect(await renderTemplate('Hello {{ $context.query }}{{ $search.none }}!', scope)).toBe('Hello paris!');
    expect(await renderTemplate('no template here $5', scope)).toBe('no template here $5');
  });

  it('an unclosed or empty template is EXPRESSION_SYNTAX', () => {
    expect(() => prepareBindings('a {{ $x')).toThrowError(expect.objectContaining({ code: 'EXPRESSION_SYNTAX' }));
    expect(() => prepareBindings('{{ }}')).toThrowError(expect.objectContaining({ code: 'EXPRESSION_SYNTAX' }));
  });
});

describe('JSONata expressions', () => {
  it('the scope is bound as variables and as the input', async () => {
    const e = compileExpression('$context.n * 2 + $count(search.hotels)');
    expect(await e.evaluate(scope)).toBe(8);
    expect(e.variables).toEqual(['context']);
  });

  it('parses once: the same source gives the same prepared expression', () => {
    expect(compileExpression('$a + 1')).toBe(compileExpression('$a + 1'));
  });

  it('reports syntax errors with a position, without throwing from tryCompileExpression', () => {
    const r = tryCompileExpression('$a +');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.position).toBeTypeOf('number');
    expect(() => compileExpression('($a')).toThrowError(expect.objectContaining({ code: 'EXPRESSION_SYNTAX' }));
  });

  it('referencedVariables ignores built-ins, local bindings, lambda parameters, $ and $$', () => {
    expect(referencedVariables('($t := $a.x; $map($b, function($v, $i) { $v + $t + $c }) ~> $sum()) + $$.y + $.z')).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('returns plain data: sequences become arrays, a returned function is an error', async () => {
    const v = await compileExpression('$search.hotels.name').evaluate(scope);
    expect(Array.isArray(v) && Object.getPrototypeOf(v) === Array.prototype && !('sequence' in (v as object))).toBe(true);
    expect(v).toEqual(['Ritz', 'Ibis']);
    expect((await rejection(compileExpression('function($x) { $x }').evaluate(scope))).code).toBe('EXPRESSION_ERROR');
  });

  it('runtime errors become EXPRESSION_ERROR naming the expression', async () => {
    const err = await rejection(compileExpression('$context.query + 1').evaluate(scope));
    expect(err.code).toBe('EXPRESSION_ERROR');
    expect(err.message).toContain('$context.query + 1');
  });
});

describe('limits stop runaway expressions', () => {
  it('infinite recursion ends with EXPRESSION_ERROR quickly', async () => {
    const t0 = Date.now();
    const err = await rejection(compileExpression('($f := function($n) { $n + $f($n + 1) }; $f(0))').evaluate({}));
    expect(err.code).toBe('EXPRESSION_ERROR');
    expect(err.message).toMatch(/deeper than the limit of 200/);
    expect(Date.now() - t0).toBeLessThan(10_000); // a hang would hit the test timeout instead
  });

  it('a tail-recursive infinite loop is stopped by the time limit', async () => {
    const err = await rejection(compileExpression('($f := function($n) { $f($n + 1) }; $f(0))').evaluate({}, { timeoutMs: 200 }));
    expect(err.code).toBe('EXPRESSION_ERROR');
    expect(err.message).toMatch(/longer than the limit of 200 ms|deeper than the limit/);
  });

  it('a huge loop is stopped by the sequence or time limit', async () => {
    const seq = await rejection(compileExpression('[1..5000000].($ * 2)').evaluate({}, { maxSequence: 100_000 }));
    expect(seq.code).toBe('EXPRESSION_ERROR');
    expect(seq.message).toMatch(/sequence longer than the limit of 100000/);
    const slow = await rejection(
      compileExpression('$reduce([1..900000], function($a, $b) { $a + $b })').evaluate({}, { timeoutMs: 100 }),
    );
    expect(slow.code).toBe('EXPRESSION_ERROR');
    expect(slow.message).toMatch(/longer than the limit of 100 ms/);
  });

  it('limits are per evaluation: concurrent evaluations of one expression do not share them', async () => {
    const e = compileExpression('$reduce([1..300000], function($a, $b) { $a + $b })');
    const [tight, loose] = await Promise.allSettled([e.evaluate({}, { timeoutMs: 5 }), e.evaluate({}, { timeoutMs: 20_000 })]);
    expect(tight.status).toBe('rejected');
    expect(loose).toEqual({ status: 'fulfilled', value: 45_000_150_000 });
    const shallow = await rejection(
      compileExpression('($a := function($n) { $n = 0 ? 0 : 1 + $a($n - 1) }; $a(30))').evaluate({}, { maxDepth: 20 }),
    );
    expect(shallow.message).toMatch(/deeper than the limit of 20/);
    expect(await compileExpression('($a := function($n) { $n = 0 ? 0 : 1 + $a($n - 1) }; $a(30))').evaluate({})).toBe(30);
  });

  it('functions in the scope are refused', async () => {
    const err = await rejection(compileExpression('$f()').evaluate({ f: () => 1 }));
    expect(err.code).toBe('EXPRESSION_ERROR');
  });
});

describe('the compiler only parses, cheaply', () => {
  it('refuses brackets nested deeper than the limit before JSONata parses them', () => {
    const deep = `${'('.repeat(9000)}1${')'.repeat(9000)}`;
    const r = tryCompileExpression(deep);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/nests brackets deeper than 100 levels/);
    // Brackets inside strings and comments do not count; 100 levels are fine.
    expect(tryCompileExpression(`'${'('.repeat(500)}' & /* ${'['.repeat(500)} */ "x"`).ok).toBe(true);
    expect(tryCompileExpression(`${'('.repeat(100)}1${')'.repeat(100)}`).ok).toBe(true);
  });

  it('compiling never evaluates: a hostile expression in a definition is only parsed', () => {
    const r = compile({
      name: 'hostile',
      nodes: [{ id: 't', type: 'transform', expression: "$length($pad('x', 140000000))" }],
    });
    expect(r.ok).toBe(true);
  });
});
