import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_OUTPUT_BYTES, maxOutputBytes } from '../src/runner/output-cap.ts';
import { type Harness, harness, tool } from './harness.ts';

let h: Harness | undefined;
const saved = process.env.TRELLIS_MAX_OUTPUT_BYTES;
afterEach(async () => {
  await h?.close();
  h = undefined;
  if (saved === undefined) delete process.env.TRELLIS_MAX_OUTPUT_BYTES;
  else process.env.TRELLIS_MAX_OUTPUT_BYTES = saved;
});

describe('the node output cap', () => {
  it('is the option, else TRELLIS_MAX_OUTPUT_BYTES, else 1,000,000; a bad value names the variable', () => {
    expect(maxOutputBytes(undefined, {})).toBe(DEFAULT_MAX_OUTPUT_BYTES);
    expect(DEFAULT_MAX_OUTPUT_BYTES).toBe(1_000_000);
    expect(maxOutputBytes(undefined, { TRELLIS_MAX_OUTPUT_BYTES: '20000000' })).toBe(20_000_000);
    expect(maxOutputBytes(500, { TRELLIS_MAX_OUTPUT_BYTES: '20000000' })).toBe(500);
    expect(() => maxOutputBytes(undefined, { TRELLIS_MAX_OUTPUT_BYTES: '10MB' })).toThrow(
      /TRELLIS_MAX_OUTPUT_BYTES must be a whole number of bytes/,
    );
  });

  it('the engine reads TRELLIS_MAX_OUTPUT_BYTES when no option is given', async () => {
    process.env.TRELLIS_MAX_OUTPUT_BYTES = '1000';
    const big = tool(() => 'x'.repeat(2000));
    h = await harness({ tools: { big } });
    const wf = await h.save({ name: 'big', nodes: [{ id: 'a', type: 'tool_call', tool: 'big' }] });
    const rec = await h.run(wf);
    expect(rec.status).toBe('failed');
    expect(rec.nodes.a?.error?.code).toBe('OUTPUT_TOO_LARGE');
    expect(rec.nodes.a?.error?.message).toContain('1000-byte cap');
  });
});
