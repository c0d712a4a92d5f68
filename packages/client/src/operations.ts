/**
 * Every operation of the Trellis HTTP API the client can call: method, path (under `/api/v1`,
 * `:name` for a path parameter), request body schema and the schema of each success response.
 * A test compares this table with the OpenAPI document a real server serves (same operations,
 * methods, paths and response schemas), so the client cannot drift from the server.
 */
import type { z } from 'zod';
import {
  agentListSchema,
  agentSchema,
  callInfoSchema,
  cancelResultSchema,
  chatBody,
  chatResultSchema,
  createdTokenSchema,
  createdWorkflowSchema,
  createTemplateBody,
  createTokenBody,
  decisionBody,
  decisionResultSchema,
  definitionBody,
  eventListSchema,
  healthSchema,
  hookAcceptedSchema,
  hookFinishedSchema,
  instantiateBody,
  meSchema,
  permissionListSchema,
  putSecretBody,
  refreshedAgentSchema,
  registerAgentBody,
  registerToolServerBody,
  retriedRunSchema,
  retryRunBody,
  runHistoryPageSchema,
  runPageSchema,
  runRecordSchema,
  secretCreatedSchema,
  secretInfoSchema,
  secretListSchema,
  signInBody,
  startedRunSchema,
  startRunBody,
  templateListSchema,
  templateSchema,
  testRunBody,
  testRunResultSchema,
  testRunStatusSchema,
  tokenListSchema,
  toolListSchema,
  toolServerListSchema,
  toolServerSchema,
  triggerListSchema,
  validateResultSchema,
  versionDetailSchema,
  versionListSchema,
  workflowAnalyticsSchema,
  workflowDetailSchema,
  workflowPageSchema,
} from './schemas/index.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** One operation: `responses` maps each success status to its body schema (`null`: no body). */
export interface OperationSpec {
  readonly method: HttpMethod;
  readonly path: string;
  readonly body?: z.ZodType;
  readonly responses: Readonly<Record<number, z.ZodType | null>>;
}

export const operations = {
  health: { method: 'GET', path: '/healthz', responses: { 200: healthSchema } },

  createWorkflow: { method: 'POST', path: '/workflows', body: definitionBody, responses: { 201: createdWorkflowSchema } },
  listWorkflows: { method: 'GET', path: '/workflows', responses: { 200: workflowPageSchema } },
  validateWorkflow: {
    method: 'POST',
    path: '/workflows/validate',
    body: definitionBody,
    responses: { 200: validateResultSchema },
  },
  getWorkflow: { method: 'GET', path: '/workflows/:id', responses: { 200: workflowDetailSchema } },
  workflowCallInfo: { method: 'GET', path: '/workflows/:id/call', responses: { 200: callInfoSchema } },
  updateWorkflow: { method: 'PUT', path: '/workflows/:id', body: definitionBody, responses: { 200: createdWorkflowSchema } },
  deleteWorkflow: { method: 'DELETE', path: '/workflows/:id', responses: { 204: null } },
  listWorkflowVersions: { method: 'GET', path: '/workflows/:id/versions', responses: { 200: versionListSchema } },
  getWorkflowVersion: { method: 'GET', path: '/workflows/:id/versions/:v', responses: { 200: versionDetailSchema } },
  getWorkflowPermissions: { method: 'GET', path: '/workflows/:id/permissions', responses: { 200: permissionListSchema } },
  setWorkflowPermissions: {
    method: 'PUT',
    path: '/workflows/:id/permissions',
    body: permissionListSchema,
    responses: { 200: permissionListSchema },
  },
  listTriggers: { method: 'GET', path: '/workflows/:id/triggers', responses: { 200: triggerListSchema } },
  createTriggerSecret: {
    method: 'POST',
    path: '/workflows/:id/triggers/:triggerId/secret',
    responses: { 201: secretCreatedSchema },
  },

  startRun: {
    method: 'POST',
    path: '/workflows/:id/run',
    body: startRunBody,
    responses: { 200: startedRunSchema, 201: startedRunSchema },
  },
  listRuns: { method: 'GET', path: '/workflows/:id/runs', responses: { 200: runPageSchema } },
  getRun: { method: 'GET', path: '/workflow_runs/:id', responses: { 200: runRecordSchema } },
  cancelRun: { method: 'POST', path: '/workflow_runs/:id/cancel', responses: { 202: cancelResultSchema } },
  retryRun: {
    method: 'POST',
    path: '/workflow_runs/:id/retry',
    body: retryRunBody,
    responses: { 200: retriedRunSchema, 201: retriedRunSchema },
  },
  approveGate: {
    method: 'POST',
    path: '/workflow_runs/:id/nodes/:nodeId/approve',
    body: decisionBody,
    responses: { 200: decisionResultSchema },
  },
  rejectGate: {
    method: 'POST',
    path: '/workflow_runs/:id/nodes/:nodeId/reject',
    body: decisionBody,
    responses: { 200: decisionResultSchema },
  },
  approveItemGate: {
    method: 'POST',
    path: '/workflow_runs/:id/nodes/:nodeId/items/:item/approve',
    body: decisionBody,
    responses: { 200: decisionResultSchema },
  },
  rejectItemGate: {
    method: 'POST',
    path: '/workflow_runs/:id/nodes/:nodeId/items/:item/reject',
    body: decisionBody,
    responses: { 200: decisionResultSchema },
  },
  listAllRuns: { method: 'GET', path: '/workflow_runs', responses: { 200: runHistoryPageSchema } },
  workflowAnalytics: { method: 'GET', path: '/workflows/:id/analytics', responses: { 200: workflowAnalyticsSchema } },
  testNode: {
    method: 'POST',
    path: '/workflows/:id/test',
    body: testRunBody,
    responses: { 200: testRunResultSchema, 202: testRunResultSchema },
  },
  getTestRun: { method: 'GET', path: '/workflows/:id/test_runs/:runId', responses: { 200: testRunStatusSchema } },
  listRunEvents: { method: 'GET', path: '/workflow_runs/:id/events', responses: { 200: eventListSchema } },
  chat: { method: 'POST', path: '/chat', body: chatBody, responses: { 200: chatResultSchema, 202: chatResultSchema } },

  listTemplates: { method: 'GET', path: '/templates', responses: { 200: templateListSchema } },
  createTemplate: { method: 'POST', path: '/templates', body: createTemplateBody, responses: { 201: templateSchema } },
  deleteTemplate: { method: 'DELETE', path: '/templates/:id', responses: { 204: null } },
  instantiateTemplate: {
    method: 'POST',
    path: '/templates/:id/instantiate',
    body: instantiateBody,
    responses: { 201: createdWorkflowSchema },
  },

  signIn: { method: 'POST', path: '/sign-in', body: signInBody, responses: { 200: createdTokenSchema } },
  whoAmI: { method: 'GET', path: '/me', responses: { 200: meSchema } },
  listTokens: { method: 'GET', path: '/tokens', responses: { 200: tokenListSchema } },
  createToken: { method: 'POST', path: '/tokens', body: createTokenBody, responses: { 201: createdTokenSchema } },
  revokeToken: { method: 'DELETE', path: '/tokens/:id', responses: { 204: null } },

  listAgents: { method: 'GET', path: '/agents', responses: { 200: agentListSchema } },
  registerAgent: { method: 'POST', path: '/agents', body: registerAgentBody, responses: { 201: agentSchema } },
  getAgent: { method: 'GET', path: '/agents/:id', responses: { 200: agentSchema } },
  deleteAgent: { method: 'DELETE', path: '/agents/:id', responses: { 204: null } },
  refreshAgent: { method: 'POST', path: '/agents/:id/refresh', responses: { 200: refreshedAgentSchema } },

  listToolServers: { method: 'GET', path: '/tool_servers', responses: { 200: toolServerListSchema } },
  registerToolServer: {
    method: 'POST',
    path: '/tool_servers',
    body: registerToolServerBody,
    responses: { 201: toolServerSchema },
  },
  getToolServer: { method: 'GET', path: '/tool_servers/:id', responses: { 200: toolServerSchema } },
  deleteToolServer: { method: 'DELETE', path: '/tool_servers/:id', responses: { 204: null } },
  refreshToolServer: { method: 'POST', path: '/tool_servers/:id/refresh', responses: { 200: toolServerSchema } },
  listTools: { method: 'GET', path: '/tools', responses: { 200: toolListSchema } },

  listSecrets: { method: 'GET', path: '/secrets', responses: { 200: secretListSchema } },
  putSecret: {
    method: 'PUT',
    path: '/secrets/:name',
    body: putSecretBody,
    responses: { 200: secretInfoSchema, 201: secretInfoSchema },
  },
  deleteSecret: { method: 'DELETE', path: '/secrets/:name', responses: { 204: null } },

  deliverWebhook: {
    method: 'POST',
    path: '/hooks/:workflowId/:triggerId',
    responses: { 200: hookFinishedSchema, 202: hookAcceptedSchema },
  },
} as const satisfies Record<string, OperationSpec>;

/**
 * Operations the client deliberately leaves out: the OpenAPI document itself, its HTML page,
 * and the WebSocket stream (use `TrellisClient.runSocketUrl` and `parseSocketMessage`).
 */
export const NOT_IN_CLIENT = ['openapi', 'docs', 'watchRun'] as const;

export type Operations = typeof operations;
export type OperationId = keyof Operations;

type ParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | ParamNames<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;

/** The path parameters an operation needs, e.g. `{ id: string }` for `/workflows/:id`. */
export type PathParams<K extends OperationId> = { [N in ParamNames<Operations[K]['path']>]: string | number };

/** The request body an operation accepts (what its schema takes in), or `never`. */
export type RequestBody<K extends OperationId> = Operations[K] extends { body: infer B extends z.ZodType } ? z.input<B> : never;

type BodyOf<S> = S extends z.ZodType ? z.output<S> : undefined;

/** What a successful call resolves to: the parsed body of any of its success statuses. */
export type ResponseBody<K extends OperationId> = {
  [S in keyof Operations[K]['responses']]: BodyOf<Operations[K]['responses'][S]>;
}[keyof Operations[K]['responses']];
