/**
 * The error catalogue: every code Trellis reports, in one closed table. Each entry says
 *
 * - `status`: the HTTP status of an API response that fails with this code (a code that only
 *   ever appears inside a run record, e.g. a node's TIMEOUT, still has the status it would have
 *   if a request failed with it);
 * - `category`: whose fault — the user's (input, definition, settings, a decision), the
 *   system's (Trellis or its database), or a remote agent/tool/server's;
 * - `retry`: what the runtime's retry decision does with an attempt that fails with it:
 *   - `transient`  — a retry may help; errors of this code are retryable unless they say otherwise
 *                    (a TrellisError of this code is `retryable` by default);
 *   - `permanent`  — retrying will not help; not retried unless the error itself says it may be
 *                    (an executor that knows better);
 *   - `never`      — never retried, whatever the error says (a decision, a cancellation, the budget,
 *                    a mistake in the definition or the input);
 * - `description`: one line for people (docs/errors.md lists them all; a test keeps it complete).
 *
 * HTTP failures of calls a node makes carry the code `HTTP_<status>` (e.g. `HTTP_503`), outside
 * the table: 5xx, 408 and 429 are transient, other statuses permanent.
 */
import type { ErrorCategory, ErrorInfo } from './errors.ts';

export type Retryability = 'transient' | 'permanent' | 'never';

export interface ErrorCodeEntry {
  readonly status: number;
  readonly category: ErrorCategory;
  readonly retry: Retryability;
  readonly description: string;
}

const e = (status: number, category: ErrorCategory, retry: Retryability, description: string): ErrorCodeEntry => ({
  status,
  category,
  retry,
  description,
});

export const ERROR_CATALOGUE = {
  // ── a definition's problems (reported in `errors` of a 422 DEFINITION_INVALID) ──────────
  SCHEMA: e(400, 'user', 'never', 'the document does not have the shape of a workflow definition (missing field, wrong type)'),
  DUPLICATE_NODE_ID: e(422, 'user', 'never', 'two nodes share an id'),
  INVALID_NODE_ID: e(422, 'user', 'never', 'a node id breaks the pattern or is reserved'),
  INVALID_NODE_TYPE: e(422, 'user', 'never', 'a node has an unknown type'),
  MISSING_FIELD: e(422, 'user', 'never', 'a type-specific required field is missing (e.g. the expression of a condition)'),
  UNKNOWN_NODE_REFERENCE: e(422, 'user', 'never', "an edge's from/to names no node"),
  CYCLE: e(422, 'user', 'never', 'the graph has a cycle'),
  UNREACHABLE_NODE: e(422, 'user', 'never', 'a node cannot be reached from any entry node'),
  UNKNOWN_BINDING_REFERENCE: e(422, 'user', 'never', 'a binding or expression names a node that does not exist'),
  BINDING_NOT_UPSTREAM: e(422, 'user', 'never', 'a binding names a node that is not upstream of where it is used'),
  EXPRESSION_SYNTAX: e(400, 'user', 'never', 'a JSONata expression or template does not parse'),
  INVALID_EDGE: e(422, 'user', 'never', 'a self-loop or duplicate edge'),
  UNKNOWN_AGENT_SKILL: e(422, 'user', 'never', 'the agent has no skill of that id'),
  TOOL_INPUT_INVALID: e(422, 'user', 'never', "a tool_call's input does not match the tool's input schema"),
  INVALID_TRIGGER: e(422, 'user', 'never', 'a trigger is malformed (bad cron, unknown timezone, bad input expression)'),
  SIDE_EFFECTS_IGNORED: e(422, 'user', 'never', 'a warning: sideEffects on a node type that has no effect outside the run'),
  CONDITION_EDGE_WITHOUT_CONDITION: e(
    422,
    'user',
    'never',
    'a warning: an edge leaving a condition node has no condition, so it is taken whatever the value',
  ),
  UNKNOWN_NAME: e(422, 'user', 'never', 'a warning: an expression uses a bare name that is no variable (e.g. `tru`)'),
  UNKNOWN_WORKFLOW: e(422, 'user', 'never', 'a workflow node names a workflow that does not exist'),
  WORKFLOW_CYCLE: e(422, 'user', 'never', 'workflow nodes call each other in a cycle'),

  // ── node attempts and runs ───────────────────────────────────────────────────────────────
  EXPRESSION_ERROR: e(400, 'user', 'never', 'an expression failed while it was evaluated (or exceeded its limits)'),
  TIMEOUT: e(504, 'remote', 'transient', "an attempt took longer than its node's timeoutMs"),
  RUN_TIMEOUT: e(504, 'user', 'never', 'the run took longer than settings.timeoutMs'),
  CANCELLED: e(409, 'user', 'never', 'the run (or the remote side) cancelled the work'),
  GATE_REJECTED: e(409, 'user', 'never', 'a person rejected a human gate (or an agent’s question)'),
  GATE_TIMEOUT: e(409, 'user', 'never', 'a human gate timed out without a decision'),
  BUDGET_EXCEEDED: e(409, 'user', 'never', "the run's cost went over settings.maxCostUsd"),
  OUTPUT_TOO_LARGE: e(400, 'user', 'never', "a node's output is over the output size cap"),
  INPUT_INVALID: e(422, 'user', 'never', "a request body, a run's input or a node's input is invalid"),
  NETWORK_ERROR: e(502, 'remote', 'transient', 'the remote side could not be reached (DNS, refused, reset)'),
  HTTP_ERROR: e(502, 'remote', 'permanent', 'an HTTP exchange failed outside a status code (bad redirect, unreadable answer)'),
  RATE_LIMITED: e(429, 'user', 'transient', 'too many requests: slow down (Retry-After says how long)'),
  LEASE_EXPIRED: e(500, 'system', 'transient', 'the worker running the attempt stopped; the attempt runs again'),
  CRASHED: e(500, 'system', 'never', 'the process stopped several times in a row while this node ran: quarantined'),
  EXECUTOR_NOT_FOUND: e(400, 'user', 'never', 'nothing can execute this node type in this host'),
  AGENT_ERROR: e(502, 'remote', 'permanent', 'the agent failed or rejected the task, or broke the protocol'),
  AGENT_NOT_FOUND: e(404, 'user', 'never', 'no registered agent has that id or name'),
  TOOL_ERROR: e(502, 'remote', 'permanent', 'the tool reported an error'),
  TOOL_NOT_FOUND: e(404, 'user', 'never', 'no tool of that name (no built-in, no registered MCP server)'),
  OUTBOUND_BLOCKED: e(403, 'user', 'never', 'the call would reach an address the outbound guard refuses'),
  SECRET_NOT_FOUND: e(400, 'user', 'never', 'a {{ $secrets.NAME }} names no stored secret'),
  SECRET_NOT_ALLOWED_HERE: e(400, 'user', 'never', 'a secret is referenced where secrets are not allowed'),
  NODE_FAILED: e(500, 'user', 'never', 'a child run (workflow node) failed; its error is in the details'),
  MAP_ITEMS_NOT_ARRAY: e(400, 'user', 'never', "a map node's items did not resolve to an array"),
  MAP_TOO_MANY_ITEMS: e(400, 'user', 'never', "a map node's items are more than its limit"),
  WORKFLOW_NOT_FOUND: e(404, 'user', 'never', 'no workflow (version) of that id'),
  WORKFLOW_FORBIDDEN: e(403, 'user', 'never', "the workflow's owner may not run the workflow it calls"),
  WORKFLOW_DEPTH_EXCEEDED: e(422, 'user', 'never', 'workflow nodes nest deeper than allowed'),
  SHUTTING_DOWN: e(503, 'system', 'transient', 'this instance is shutting down; retry on another'),
  LEASE_LOST: e(409, 'system', 'transient', 'another worker took over the run; this worker dropped its writes'),
  STORE_UNAVAILABLE: e(503, 'system', 'transient', 'the database cannot be reached'),
  INTERNAL: e(500, 'system', 'permanent', 'an unexpected error; the log has the details'),
  REPLAY_FAILED: e(
    503,
    'system',
    'transient',
    "a run's stored events could not be read for a subscriber; subscribe again with after=<details.resumeAfter>",
  ),

  // ── API requests ─────────────────────────────────────────────────────────────────────────
  BAD_REQUEST: e(400, 'user', 'never', 'the request is malformed'),
  UNAUTHORIZED: e(401, 'user', 'never', 'no token, or an unknown or revoked one'),
  SIGN_IN_CODE_INVALID: e(401, 'user', 'never', 'the one-time sign-in code is not one this server issued'),
  SIGN_IN_CODE_EXPIRED: e(401, 'user', 'never', 'the one-time sign-in code has expired; create a new one'),
  SIGN_IN_CODE_USED: e(401, 'user', 'never', 'the one-time sign-in code was already used'),
  FORBIDDEN: e(403, 'user', 'never', 'the token may not do this'),
  NOT_FOUND: e(404, 'user', 'never', 'no such resource (or not visible to this token)'),
  METHOD_NOT_ALLOWED: e(405, 'user', 'never', 'the path exists but not with this method'),
  CONFLICT: e(409, 'user', 'never', 'the resource is not in a state that allows this (e.g. a gate not waiting)'),
  GONE: e(410, 'user', 'never', 'the resource existed and is gone'),
  PAYLOAD_TOO_LARGE: e(413, 'user', 'never', 'the request body is too large'),
  URI_TOO_LONG: e(414, 'user', 'never', 'the request URI is too long'),
  UNSUPPORTED_MEDIA_TYPE: e(415, 'user', 'never', 'the request body is not JSON'),
  UPGRADE_REQUIRED: e(426, 'user', 'never', 'this path is a WebSocket: upgrade the connection'),
  DEFINITION_INVALID: e(422, 'user', 'never', 'the workflow definition is invalid; `errors` lists every problem'),
  PERMISSIONS_INVALID: e(422, 'user', 'never', 'a permission list is invalid'),
  INVALID_CURSOR: e(400, 'user', 'never', 'the pagination cursor is not one this server issued'),
  RUN_NOT_FOUND: e(404, 'user', 'never', 'no run of that id'),
  RUN_NOT_FINISHED: e(409, 'user', 'never', 'only a finished run can be retried'),
  NOTHING_TO_RERUN: e(409, 'user', 'never', 'a retry would reuse every node: nothing to run again'),
  WORKFLOW_DELETED: e(409, 'user', 'never', "the run's workflow was deleted"),
  RETRY_UNKNOWN_NODE: e(422, 'user', 'never', 'a retry names a node the run does not have'),
  TEST_NEEDS_RUN: e(409, 'user', 'never', 'testing a node needs a run whose outputs feed it'),
  TEST_UNKNOWN_NODE: e(422, 'user', 'never', 'a test run names a node the workflow does not have'),
  TEST_SUBWORKFLOW: e(422, 'user', 'never', 'a workflow node cannot be tested on its own'),
  UNAVAILABLE: e(503, 'system', 'transient', 'the server is not ready (starting, draining or its database is down)'),
  TOKEN_REVOKED: e(401, 'user', 'never', "a stream's token was revoked or expired while it was open: do not reconnect with it"),
  ACCESS_WITHDRAWN: e(403, 'user', 'never', 'the principal lost the role a stream needs on the run’s workflow'),

  // ── the HTTP client (@trellis/client), for failures that have no server answer ───────────
  NETWORK: e(503, 'remote', 'transient', 'the HTTP client could not reach the server'),
  BAD_RESPONSE: e(502, 'remote', 'permanent', "the server's answer does not match the API's schema"),

  // ── the command line ─────────────────────────────────────────────────────────────────────
  USAGE: e(400, 'user', 'never', 'the command was called with wrong arguments'),
  FILE_NOT_FOUND: e(400, 'user', 'never', 'the definition (or input) file does not exist'),
  FILE_UNREADABLE: e(400, 'user', 'never', 'the file cannot be read'),
  FILE_TOO_LARGE: e(413, 'user', 'never', 'the file is too large for a definition'),
  FILE_EMPTY: e(400, 'user', 'never', 'the file is empty'),
  PARSE_ERROR: e(400, 'user', 'never', 'the file is neither valid JSON nor valid YAML'),
  IMPORT_INVALID: e(422, 'user', 'never', 'the console cannot import the pasted or uploaded definition'),

  // ── configuration and storage ────────────────────────────────────────────────────────────
  CONFIG_INVALID: e(500, 'user', 'never', 'a setting (environment variable or option) is invalid'),
  STORE_OPEN_FAILED: e(500, 'user', 'never', 'the database could not be opened or migrated'),
  DATABASE_IN_USE: e(409, 'user', 'never', 'another Trellis process holds this SQLite database'),
  INVALID_CHANNEL: e(500, 'system', 'never', 'a PostgreSQL notification channel or payload is invalid'),
  SECRET_KEY_MISSING: e(500, 'user', 'never', 'secrets are used but no encryption key is configured'),
  SECRET_KEY_INVALID: e(500, 'user', 'never', 'the secrets encryption key is malformed'),
  SECRET_KEY_INSECURE: e(500, 'user', 'never', 'the secrets key file is readable by others'),
  SECRET_DECRYPT_FAILED: e(500, 'system', 'never', 'a stored secret cannot be decrypted with the configured key'),
} as const satisfies Record<string, ErrorCodeEntry>;

/** A code of the catalogue. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;
/** The code of an HTTP failure of a call a node made: `HTTP_<status>`. */
export type HttpErrorCode = `HTTP_${number}`;
/** Every code an error may carry. */
export type TrellisErrorCode = ErrorCode | HttpErrorCode;

export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

const HTTP_CODE = /^HTTP_(\d{3})$/;

/** Whether `code` is a code of the catalogue (or `HTTP_<status>`). */
export function isErrorCode(code: string): code is TrellisErrorCode {
  return Object.hasOwn(ERROR_CATALOGUE, code) || HTTP_CODE.test(code);
}

/**
 * The entry of a code: from the table, derived for `HTTP_<status>`, and for anything else (an
 * embedder's executor throwing its own code from plain JavaScript) that of INTERNAL with the
 * remote category — never undefined.
 */
export function errorEntry(code: string): ErrorCodeEntry {
  if (Object.hasOwn(ERROR_CATALOGUE, code)) return ERROR_CATALOGUE[code as ErrorCode];
  const http = HTTP_CODE.exec(code);
  if (http) {
    const status = Number(http[1]);
    const transient = status >= 500 || status === 429 || status === 408;
    return {
      status: 502,
      category: 'remote',
      retry: transient ? 'transient' : 'permanent',
      description: `the remote side answered HTTP ${status}`,
    };
  }
  return { status: 500, category: 'remote', retry: 'permanent', description: 'a code outside the catalogue' };
}

/**
 * The runtime's retry decision for one failed attempt (the node's policy then bounds how many):
 * `never` codes are final; otherwise the error's `retryable` flag decides. A TrellisError takes
 * that flag from its code's retryability unless it is told otherwise, so `transient` codes are
 * retryable and `permanent` ones are not by default.
 */
export function isRetryableError(error: Pick<ErrorInfo, 'code' | 'retryable'>): boolean {
  return error.retryable === true && errorEntry(error.code).retry !== 'never';
}
