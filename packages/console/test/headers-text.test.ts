/** Registration headers as the forms type them, and which secrets a workflow's inspector offers. */
import { describe, expect, it } from 'vitest';
import { parseArgLines, parseEnvLines, parseHeaderLines, secretRef, usableSecrets } from '../src/editor/headers-text.ts';

describe('registration headers text', () => {
  it('reads one "Name: value" per line, keeping secret references as typed', () => {
    expect(parseHeaderLines('Authorization: Bearer {{ $secrets.T }}\n\n X-Team : blue ')).toEqual({
      headers: { Authorization: 'Bearer {{ $secrets.T }}', 'X-Team': 'blue' },
      error: undefined,
    });
    expect(parseHeaderLines('no colon here').error).toBe('line 1: write "Header-Name: value"');
    expect(parseHeaderLines('bad name: x').error).toContain('is not a header name');
  });

  it('offers global secrets and the workflow’s own, not other workflows’', () => {
    const all = [
      { name: 'G', scope: 'global' },
      { name: 'MINE', scope: 'workflow:wf_1' },
      { name: 'OTHER', scope: 'workflow:wf_2' },
    ];
    expect(usableSecrets(all, 'wf_1').map((s) => s.name)).toEqual(['G', 'MINE']);
    expect(usableSecrets(all, undefined).map((s) => s.name)).toEqual(['G']);
    expect(secretRef('G')).toBe('{{ $secrets.G }}');
  });

  it('reads a stdio environment as NAME=value lines and arguments one per line', () => {
    expect(parseEnvLines('TOKEN={{ $secrets.T }}\n\n MODE = a=b ')).toEqual({
      env: { TOKEN: '{{ $secrets.T }}', MODE: 'a=b' },
      error: undefined,
    });
    expect(parseEnvLines('TOKEN').error).toBe('line 1: write "NAME=value"');
    expect(parseEnvLines('1X=2').error).toContain('is not a variable name');
    expect(parseArgLines(' --import\ntsx \n\n/srv/server.js')).toEqual(['--import', 'tsx', '/srv/server.js']);
  });
});
