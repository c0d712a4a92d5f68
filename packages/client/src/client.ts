/**
 * The typed HTTP client of the Trellis API. `call(operationId, …)` reaches any operation of
 * the table in operations.ts with typed path parameters and body, and resolves the response
 * parsed by the API's own schema (a response that does not match is an error, not a guess).
 * The named methods below are the everyday calls, written on top of `call`.
 */
import { errorFromResponse, TrellisApiError } from './errors.ts';
import {
  type OperationId,
  type Operations,
  operations,
  type PathParams,
  type RequestBody,
  type ResponseBody,
} from './operations.ts';
import { type SocketMessage, socketMessageSchema } from './schemas/runs.ts';

export interface TrellisClientOptions {
  /** The server's origin, e.g. `http://127.0.0.1:8080`; `''` for the page's own origin (browser). */
  baseUrl: string;
  /** An API token (`trellis token create`); sent as `Authorization: Bearer …`. */
  token?: string | undefined;
  /** Called when the server answers 401 (e.g. to sign out), before the error is thrown. */
  onUnauthorized?: () => void;
  /** A fetch implementation (default: the global fetch). */
  fetch?: typeof fetch;
  /** Abort a call that takes longer than this (default: no limit). */
  timeoutMs?: number;
}

type Query = Record<string, string | number | boolean | null | undefined>;

/** Everything a call may carry besides its operation id. */
export type CallOptions<K extends OperationId> = ([keyof PathParams<K>] extends [never]
  ? { params?: undefined }
  : { params: PathParams<K> }) &
  ([RequestBody<K>] extends [never] ? { body?: undefined } : { body?: RequestBody<K> }) & {
    query?: Query;
    headers?: Record<string, string>;
    signal?: AbortSignal;
  };

type CallArgs<K extends OperationId> = [keyof PathParams<K>] extends [never]
  ? [options?: CallOptions<K>]
  : [options: CallOptions<K>];

/** The `/api/v1` path of an operation with its parameters filled in (encoded). */
export function operationPath<K extends OperationId>(id: K, params?: PathParams<K>): string {
  const values = (params ?? {}) as Record<string, string | number>;
  return operations[id].path.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new TypeError(`${id}: path parameter '${name}' is missing`);
    return encodeURIComponent(String(v));
  });
}

/** Parses one WebSocket message of a run's event stream (`event`, then `end`). */
export function parseSocketMessage(data: string): SocketMessage {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    throw new TrellisApiError(0, 'Bad stream message', 'the run stream sent a message that is not JSON', [], {
      code: 'BAD_RESPONSE',
      kind: 'bad_response',
    });
  }
  const r = socketMessageSchema.safeParse(json);
  if (!r.success)
    throw new TrellisApiError(0, 'Bad stream message', `the run stream sent an unexpected message: ${r.error.message}`, [], {
      code: 'BAD_RESPONSE',
      kind: 'bad_response',
    });
  return r.data;
}

export class TrellisClient {
  readonly baseUrl: string;
  readonly token: string | undefined;
  private readonly onUnauthorized: (() => void) | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number | undefined;

  constructor(options: TrellisClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    this.onUnauthorized = options.onUnauthorized;
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = options.timeoutMs;
  }

  /** Calls one operation; resolves its response body parsed by the API schema, or throws TrellisApiError. */
  async call<K extends OperationId>(id: K, ...[options]: CallArgs<K>): Promise<ResponseBody<K>> {
    const op: Operations[K] = operations[id];
    const o = (options ?? {}) as CallOptions<K>;
    let url = `${this.baseUrl}/api/v1${operationPath(id, o.params as PathParams<K>)}`;
    if (o.query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(o.query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
      const s = q.toString();
      if (s) url += `?${s}`;
    }
    const headers: Record<string, string> = { accept: 'application/json', ...o.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const init: RequestInit = { method: op.method, headers };
    if (o.body !== undefined || (op.method !== 'GET' && op.method !== 'DELETE')) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(o.body ?? {});
    }
    const signals = [o.signal, this.timeoutMs ? AbortSignal.timeout(this.timeoutMs) : undefined].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    if (signals.length === 1) init.signal = signals[0] as AbortSignal;
    else if (signals.length > 1) init.signal = AbortSignal.any(signals);

    let res: Response;
    try {
      res = await this.fetchImpl(url, init);
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      const message = err instanceof Error ? err.message : String(err);
      throw new TrellisApiError(0, 'Network error', cause ? `${message} (${cause})` : message, [], {
        code: (err as Error).name === 'TimeoutError' ? 'TIMEOUT' : 'NETWORK',
      });
    }
    const text = await res.text();
    if (!res.ok) {
      const error = errorFromResponse(res.status, res.statusText, text);
      if (error.kind === 'unauthorized') this.onUnauthorized?.();
      throw error;
    }
    const responses = op.responses as Readonly<Record<number, import('zod').ZodType | null>>;
    const schema = responses[res.status];
    if (schema === undefined) throw badResponse(id, `answered ${res.status}, which the API does not declare for it`, res.status);
    if (schema === null) return undefined as ResponseBody<K>;
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      throw badResponse(id, 'answered with a body that is not JSON', res.status);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue ? `/${issue.path.join('/')}: ${issue.message}` : parsed.error.message;
      throw badResponse(id, `answered with a body that does not match the API schema (${where})`, res.status);
    }
    return parsed.data as ResponseBody<K>;
  }

  /** WebSocket URL of a run's live event stream, replaying events after `after`. */
  runSocketUrl(runId: string, after = 0): string {
    const origin = this.baseUrl || (typeof location === 'undefined' ? 'http://127.0.0.1' : location.origin);
    const token = this.token ? `&token=${encodeURIComponent(this.token)}` : '';
    return `${origin.replace(/^http/, 'ws')}/api/v1/ws/workflow_runs/${encodeURIComponent(runId)}?after=${after}${token}`;
  }

  // Everyday calls.

  /** Checks a workflow definition without saving it: `{ valid, errors, warnings, compiled }`. */
  validateWorkflow(definition: Record<string, unknown>, options: { signal?: AbortSignal } = {}) {
    return this.call('validateWorkflow', { body: definition, ...options });
  }

  /** Starts a run of the workflow's latest version (or `version`); `idempotencyKey` makes it retry-safe. */
  startRun(workflowId: string, input: unknown = {}, options: { version?: number; idempotencyKey?: string } = {}) {
    return this.call('startRun', {
      params: { id: workflowId },
      body: { input, ...(options.version !== undefined ? { version: options.version } : {}) },
      ...(options.idempotencyKey ? { headers: { 'idempotency-key': options.idempotencyKey } } : {}),
    });
  }

  /** The run record: every node with status, attempts, input, output, error, timings and cost. */
  getRun(runId: string) {
    return this.call('getRun', { params: { id: runId } });
  }

  /** A run's events with `seq > after` (at most `limit`). */
  async listRunEvents(runId: string, after = 0, limit?: number) {
    return (await this.call('listRunEvents', { params: { id: runId }, query: { after, limit } })).items;
  }

  /** Cancels a run; a finished run is left as it is. */
  cancelRun(runId: string) {
    return this.call('cancelRun', { params: { id: runId } });
  }

  /** Approves or rejects a waiting human gate (of one map item when `item` is given). */
  decideGate(
    runId: string,
    nodeId: string,
    decision: 'approve' | 'reject',
    body: { comment?: string; data?: unknown } = {},
    item?: number,
  ) {
    if (item !== undefined)
      return this.call(decision === 'approve' ? 'approveItemGate' : 'rejectItemGate', {
        params: { id: runId, nodeId, item },
        body,
      });
    return this.call(decision === 'approve' ? 'approveGate' : 'rejectGate', { params: { id: runId, nodeId }, body });
  }

  /**
   * Polls until the run is finished (or, with `orWaiting`, waits at a gate) and resolves its
   * record. For live events use the WebSocket (`runSocketUrl`).
   */
  async waitForRun(
    runId: string,
    options: { orWaiting?: boolean; intervalMs?: number; timeoutMs?: number; signal?: AbortSignal } = {},
  ) {
    const deadline = options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs;
    for (;;) {
      const run = await this.getRun(runId);
      if (run.status === 'succeeded' || run.status === 'failed' || run.status === 'cancelled') return run;
      if (options.orWaiting && run.status === 'waiting') return run;
      if (Date.now() > deadline)
        throw new TrellisApiError(0, 'Timeout', `run '${runId}' is still ${run.status} after ${options.timeoutMs} ms`, [], {
          code: 'TIMEOUT',
        });
      options.signal?.throwIfAborted();
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 250));
    }
  }
}

function badResponse(id: OperationId, what: string, status: number): TrellisApiError {
  return new TrellisApiError(status, 'Unexpected response', `${id} ${what}`, [], { code: 'BAD_RESPONSE', kind: 'bad_response' });
}
