import { describe, expect, it } from 'vitest';
import { applyInputDefaults } from '../src/index.ts';

const schema = {
  type: 'object',
  required: ['city'],
  properties: {
    city: { type: 'string', default: 'Lisbon' },
    delayMs: { type: 'number', default: 8000 },
    flags: { type: 'array', default: ['a'] },
    options: { type: 'object', properties: { currency: { type: 'string', default: 'EUR' } } },
    budget: { type: 'object', default: { max: 200 }, properties: { currency: { type: 'string', default: 'EUR' } } },
    note: { type: 'string' },
  },
};

describe('applyInputDefaults', () => {
  it('fills absent properties, nested ones too; a default object gets its own properties defaults', () => {
    expect(applyInputDefaults(schema, {})).toEqual({
      city: 'Lisbon',
      delayMs: 8000,
      flags: ['a'],
      budget: { max: 200, currency: 'EUR' },
    });
    expect(applyInputDefaults(schema, { options: {} })).toMatchObject({ options: { currency: 'EUR' } });
  });

  it('keeps given values, explicit nulls and unknown fields; never mutates the input or the schema', () => {
    const input = { city: 'Porto', delayMs: null, extra: 1 };
    const out = applyInputDefaults(schema, input) as Record<string, unknown>;
    expect(out).toMatchObject({ city: 'Porto', delayMs: null, extra: 1 });
    expect(input).toEqual({ city: 'Porto', delayMs: null, extra: 1 });
    (out.flags as string[]).push('b');
    expect(schema.properties.flags.default).toEqual(['a']);
  });

  it('a missing input for an object schema starts as {}; no schema or no defaults: the input unchanged', () => {
    expect(applyInputDefaults(schema, undefined)).toMatchObject({ city: 'Lisbon' });
    expect(applyInputDefaults(schema, null)).toMatchObject({ city: 'Lisbon' });
    const given = { a: 1 };
    expect(applyInputDefaults(undefined, given)).toBe(given);
    expect(applyInputDefaults({ type: 'object', properties: { a: { type: 'number' } } }, given)).toBe(given);
    expect(applyInputDefaults({ type: 'string', default: 'x' }, undefined)).toBe('x');
    expect(applyInputDefaults(schema, 'not an object')).toBe('not an object');
  });
});
