/**
 * @trellis/client — a typed HTTP client for a Trellis server. The API's payload schemas are
 * at `@trellis/client/schemas`.
 *
 * ```ts
 * const trellis = new TrellisClient({ baseUrl: 'http://127.0.0.1:8080', token: process.env.TRELLIS_TOKEN });
 * const { id } = await trellis.startRun('wf_123', { topic: 'durable workflows' });
 * const run = await trellis.waitForRun(id);
 * ```
 */

/** The client: `call(operationId, …)` for any operation, named methods for the everyday ones. */
export { type CallOptions, operationPath, parseSocketMessage, TrellisClient, type TrellisClientOptions } from './client.ts';
/** The error every failed call throws (problem+json, network, or a response off the schema). */
export { type ApiErrorKind, errorFromResponse, TrellisApiError } from './errors.ts';
/** The operation table and the types derived from it. */
export {
  type HttpMethod,
  NOT_IN_CLIENT,
  type OperationId,
  type OperationSpec,
  type Operations,
  operations,
  type PathParams,
  type RequestBody,
  type ResponseBody,
} from './operations.ts';
/** Response types of the everyday calls, as the schemas define them. */
export type {
  Agent,
  CreatedWorkflow,
  DecisionResult,
  Problem,
  RunEvent,
  RunRecord,
  RunSummary,
  SecretInfo,
  SocketMessage,
  StartedRun,
  Template,
  ToolInfo,
  ToolServer,
  ValidateResult,
  WorkflowDetail,
  WorkflowListItem,
  WorkflowVersion,
} from './types.ts';
