import { describe, expect, it } from 'vitest';
import { disambiguators } from '../src/app/workflow-names.ts';

describe('telling workflows with the same name apart', () => {
  it('unique names carry nothing; shared names carry the id start, and the owner when owners differ', () => {
    const d = disambiguators([
      { id: 'wf_aaaaaaaaaaaa', name: 'hotel-search', owner: 'alice' },
      { id: 'wf_bbbbbbbbbbbb', name: 'hotel-search', owner: 'bob' },
      { id: 'wf_cccccccccccc', name: 'copy', owner: 'alice' },
      { id: 'wf_dddddddddddd', name: 'copy', owner: 'alice' },
      { id: 'wf_eeeeeeeeeeee', name: 'alone', owner: 'alice' },
    ]);
    expect(d.get('wf_aaaaaaaaaaaa')).toBe('alice · wf_aaaaa…');
    expect(d.get('wf_bbbbbbbbbbbb')).toBe('bob · wf_bbbbb…');
    expect(d.get('wf_cccccccccccc')).toBe('wf_ccccc…');
    expect(d.get('wf_dddddddddddd')).toBe('wf_ddddd…');
    expect(d.has('wf_eeeeeeeeeeee')).toBe(false);
  });
});
