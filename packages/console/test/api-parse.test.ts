/**
 * The console parses every response with the API's schemas (@trellis/client, shared with the
 * server): a response on the contract reaches the pages mapped to the console's vocabulary, a
 * response off it is an ApiError saying which call and which field, never a guessed shape.
 * (The same client against the real server: api-client.int.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { ApiClient } from '../src/api/client.ts';
import { ApiError, describeError } from '../src/api/problem.ts';

function clientAnswering(body: unknown, status = 200): ApiClient {
  return new ApiClient({
    token: 't',
    baseUrl: 'http://127.0.0.1:1',
    fetch: async () => new Response(JSON.stringify(body), { status }),
  });
}

const tool = { id: 'pricing/filter', name: 'filter', server: 'pricing', serverId: 's1', description: 'd', inputSchema: {} };
const workflow = {
  id: 'w',
  name: 'W',
  description: null,
  owner: 'alice',
  latestVersion: 4,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  lastRun: null,
};

describe('responses on the contract', () => {
  it('names tools `<server>/<tool>`', async () => {
    const tools = await clientAnswering({ items: [tool] }).listTools();
    expect(tools).toEqual([{ name: 'pricing/filter', serverId: 's1', description: 'd', inputSchema: {} }]);
  });

  it('gives a listed workflow its latest version as `version`', async () => {
    const page = await clientAnswering({ items: [workflow], nextCursor: null }).listWorkflows();
    expect(page.items[0]?.version).toBe(4);
    expect(page.nextCursor).toBeNull();
  });
});

describe('responses off the contract', () => {
  it.each([
    ['a bare array instead of a page', [workflow]],
    ['a page under another key', { workflows: [workflow] }],
    [
      'a run status outside the closed set',
      { items: [{ ...workflow, lastRun: { id: 'r', status: 'done', createdAt: 'x' } }], nextCursor: null },
    ],
  ])('refuses %s with an ApiError naming the call', async (_what, body) => {
    const err = await clientAnswering(body)
      .listWorkflows()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ kind: 'bad_response', code: 'BAD_RESPONSE' });
    expect(describeError(err)).toMatch(/listWorkflows answered with a body that does not match the API schema/);
  });

  it.each([
    ['callInfo', (api: ApiClient) => api.callInfo('w'), 'workflowCallInfo', { workflowId: 'w', mcp: {} }],
    ['listTriggers', (api: ApiClient) => api.listTriggers('w'), 'listTriggers', [{ id: 't', type: 'webhook' }]],
    ['createTriggerSecret', (api: ApiClient) => api.createTriggerSecret('w', 't'), 'createTriggerSecret', { key: 's' }],
  ])('%s parses its answer with the API schema too (no unparsed route)', async (_name, call, operation, body) => {
    const err = await call(clientAnswering(body, operation === 'createTriggerSecret' ? 201 : 200)).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'bad_response', code: 'BAD_RESPONSE' });
    expect(describeError(err)).toContain(`${operation} answered with a body that does not match the API schema`);
  });

  it('reads a problem+json failure: status, code, the compiler problems', async () => {
    const problem = {
      type: 'about:blank',
      title: 'Unprocessable Content',
      status: 422,
      detail: 'the definition has 1 problem',
      code: 'DEFINITION_INVALID',
      errors: [{ code: 'CYCLE', message: 'a → b → a', path: '/edges/1' }],
    };
    const err = await clientAnswering(problem, 422)
      .validate({})
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 422, kind: 'invalid', code: 'DEFINITION_INVALID', title: 'Unprocessable Content' });
    expect((err as ApiError).errors).toEqual(problem.errors);
  });
});
