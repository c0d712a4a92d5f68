/**
 * OpenTelemetry traces of runs, built from the engine's committed events (it listens to the
 * event hub; the runner's hot path is untouched). Span model:
 *
 * - one trace per run (trace id derived from the run id, see ids.ts), with a root span
 *   `run <workflowId>` from the first event this process saw for the run to its terminal event;
 * - one span per node attempt, child of the run span, `<type> <nodeId>` from `node.started` to
 *   the attempt's outcome (`node.succeeded`, `node.failed`, `node.retrying`, `node.waiting`,
 *   `node.cancelled`); a failed attempt that is retried carries a `trellis.retry` event with the
 *   backoff delay, and the next attempt's span records the backoff it waited;
 * - one span per human-gate wait, `gate <nodeId>`, from `node.waiting` to the decision.
 */
import type * as Api from '@opentelemetry/api';
import type { Attributes, Span, Tracer } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type * as SdkTrace from '@opentelemetry/sdk-trace';
import type { IdGenerator, SpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { NodeDefinition, RunEvent } from '@trellis/core';
import { lazyModule } from '../lazy-module.ts';
import { decodeTraceParent, runSpanId, runTraceId } from './ids.ts';
import { attemptKey, registerAttemptSpan, unregisterAttemptSpan } from './propagation.ts';

// OpenTelemetry's API and SDK are loaded when the first tracer is made, not with the runtime.
const api = lazyModule<typeof Api>('@opentelemetry/api');
const sdkTrace = lazyModule<typeof SdkTrace>('@opentelemetry/sdk-trace');

/** What the tracer needs to know about a run it sees events of (from the engine's memory). */
export interface TracedRunInfo {
  workflowId: string;
  workflowName: string;
  version: number;
  /**
   * The caller's W3C traceparent stored with the run (an API/webhook/MCP/A2A caller, or the
   * parent run's `workflow` node attempt): the run span becomes its child, in its trace.
   */
  traceParent?: string;
  node(nodeId: string): NodeDefinition | undefined;
}

export interface RunTracerOptions {
  spanProcessors: SpanProcessor[];
  resource?: Resource;
}

/** Span attribute names (GenAI semantic conventions for tokens, `trellis.*` for the rest). */
export const TRACE_ATTR = {
  workflowId: 'trellis.workflow.id',
  workflowVersion: 'trellis.workflow.version',
  workflowName: 'trellis.workflow.name',
  runId: 'trellis.run.id',
  nodeId: 'trellis.node.id',
  nodeType: 'trellis.node.type',
  nodeItem: 'trellis.node.item',
  attempt: 'trellis.node.attempt',
  agent: 'trellis.agent',
  tool: 'trellis.tool',
  costUsd: 'trellis.cost_usd',
  durationMs: 'trellis.node.duration_ms',
  backoffMs: 'trellis.node.backoff_ms',
  outcome: 'trellis.node.outcome',
  runStatus: 'trellis.run.status',
  errorCode: 'error.type',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  genAiOperation: 'gen_ai.operation.name',
  genAiAgentName: 'gen_ai.agent.name',
  genAiToolName: 'gen_ai.tool.name',
} as const;

/** Hands out the run span's derived ids once when asked to, random ids otherwise. */
class RunIdGenerator implements IdGenerator {
  private readonly random = new (sdkTrace().RandomIdGenerator)();
  pending: { traceId: string; spanId: string } | undefined;
  generateTraceId(): string {
    return this.pending?.traceId ?? this.random.generateTraceId();
  }
  generateSpanId(): string {
    return this.pending?.spanId ?? this.random.generateSpanId();
  }
}

interface RunState {
  span: Span;
  info: TracedRunInfo | undefined;
  attempts: Map<string, { span: Span; key: string }>;
  gates: Map<string, Date>;
  backoff: Map<string, number>;
}

const TERMINAL: Record<string, string> = { 'run.succeeded': 'succeeded', 'run.failed': 'failed', 'run.cancelled': 'cancelled' };

export class RunTracer {
  private readonly provider: TracerProvider;
  private readonly tracer: Tracer;
  private readonly ids = new RunIdGenerator();
  private readonly runs = new Map<string, RunState>();

  constructor(options: RunTracerOptions) {
    this.provider = new (sdkTrace().TracerProvider)({
      idGenerator: this.ids,
      spanProcessors: options.spanProcessors,
      ...(options.resource ? { resource: options.resource } : {}),
    });
    this.tracer = this.provider.getTracer('@trellis/runtime');
  }

  /** Feeds one committed event (`info` describes its run, when this process holds it). */
  handle(event: RunEvent, info: TracedRunInfo | undefined): void {
    const at = new Date(event.at);
    const run = this.run(event, info, at);
    const nodeKey = event.nodeId === undefined ? '' : `${event.nodeId}\u0000${event.item ?? ''}`;
    switch (event.type) {
      case 'node.started':
        this.startAttempt(run, event.runId, event.nodeId ?? '', event.item, event.data.attempt, at);
        break;
      case 'node.succeeded': {
        const d = event.data;
        this.endAttempt(run, nodeKey, at, api().SpanStatusCode.OK, 'succeeded', (s) => {
          s.setAttribute(TRACE_ATTR.durationMs, d.durationMs);
          if (d.cost?.costUsd !== undefined) s.setAttribute(TRACE_ATTR.costUsd, d.cost.costUsd);
          if (d.cost?.usage?.inputTokens !== undefined) s.setAttribute(TRACE_ATTR.inputTokens, d.cost.usage.inputTokens);
          if (d.cost?.usage?.outputTokens !== undefined) s.setAttribute(TRACE_ATTR.outputTokens, d.cost.usage.outputTokens);
        });
        break;
      }
      case 'node.failed': {
        const err = event.data.error;
        this.endAttempt(run, nodeKey, at, api().SpanStatusCode.ERROR, 'failed', (s) => {
          s.setAttribute(TRACE_ATTR.errorCode, err.code);
          s.setStatus({ code: api().SpanStatusCode.ERROR, message: `${err.code}: ${err.message}` });
        });
        break;
      }
      case 'node.retrying': {
        const { error: err, delayMs, attempt } = event.data;
        run.backoff.set(nodeKey, delayMs);
        this.endAttempt(run, nodeKey, at, api().SpanStatusCode.ERROR, 'retrying', (s) => {
          s.setAttribute(TRACE_ATTR.errorCode, err.code);
          s.setStatus({ code: api().SpanStatusCode.ERROR, message: `${err.code}: ${err.message}` });
          s.addEvent(
            'trellis.retry',
            { 'trellis.retry.delay_ms': delayMs, 'trellis.retry.next_attempt': attempt + 1, [TRACE_ATTR.errorCode]: err.code },
            at,
          );
        });
        break;
      }
      case 'node.waiting':
        this.endAttempt(run, nodeKey, at, api().SpanStatusCode.UNSET, 'waiting');
        run.gates.set(nodeKey, at);
        break;
      case 'node.cancelled':
        this.endAttempt(run, nodeKey, at, api().SpanStatusCode.UNSET, 'cancelled');
        break;
      case 'gate.approved':
      case 'gate.rejected': {
        const since = run.gates.get(nodeKey) ?? at;
        run.gates.delete(nodeKey);
        const span = this.tracer.startSpan(
          `gate ${event.nodeId ?? ''}`,
          {
            startTime: since,
            attributes: {
              ...this.nodeAttributes(run, event.runId, event.nodeId ?? '', event.item),
              'trellis.gate.decision': event.type === 'gate.approved' ? 'approved' : 'rejected',
            },
          },
          api().trace.setSpan(api().ROOT_CONTEXT, run.span),
        );
        span.end(at);
        break;
      }
      case 'run.cost':
        run.span.setAttribute(TRACE_ATTR.costUsd, event.data.totalUsd);
        break;
      case 'run.succeeded':
      case 'run.failed':
      case 'run.cancelled': {
        for (const a of run.attempts.values()) {
          a.span.setAttribute(TRACE_ATTR.outcome, 'unfinished');
          a.span.end(at);
          unregisterAttemptSpan(a.key);
        }
        run.span.setAttribute(TRACE_ATTR.runStatus, TERMINAL[event.type] ?? '');
        if (event.type === 'run.failed') {
          run.span.setAttribute(TRACE_ATTR.errorCode, event.data.error.code);
          run.span.setStatus({
            code: api().SpanStatusCode.ERROR,
            message: `${event.data.error.code}: ${event.data.error.message}`,
          });
        } else if (event.type === 'run.succeeded') run.span.setStatus({ code: api().SpanStatusCode.OK });
        run.span.end(at);
        this.runs.delete(event.runId);
        break;
      }
      default:
        break;
    }
  }

  /** Runs with an open run span (for tests and metrics). */
  get openRuns(): number {
    return this.runs.size;
  }

  forceFlush(): Promise<void> {
    return this.provider.forceFlush();
  }

  /** Exports what is buffered and stops; spans of runs still open are not exported. */
  shutdown(): Promise<void> {
    for (const run of this.runs.values()) for (const a of run.attempts.values()) unregisterAttemptSpan(a.key);
    this.runs.clear();
    return this.provider.shutdown();
  }

  private run(event: RunEvent, info: TracedRunInfo | undefined, at: Date): RunState {
    let run = this.runs.get(event.runId);
    if (run) {
      if (!run.info && info) {
        run.info = info;
        this.describeRun(run.span, info);
      }
      return run;
    }
    const workflowId = event.type === 'run.queued' ? event.data.workflowId : info?.workflowId;
    const version = event.type === 'run.queued' ? event.data.version : info?.version;
    const attributes: Attributes = { [TRACE_ATTR.runId]: event.runId };
    if (workflowId !== undefined) attributes[TRACE_ATTR.workflowId] = workflowId;
    if (version !== undefined) attributes[TRACE_ATTR.workflowVersion] = version;
    this.ids.pending = { traceId: runTraceId(event.runId), spanId: runSpanId(event.runId) };
    const caller = decodeTraceParent(info?.traceParent);
    let span: Span;
    try {
      span = caller
        ? this.tracer.startSpan(
            `run ${workflowId ?? event.runId}`,
            { kind: api().SpanKind.SERVER, startTime: at, attributes },
            api().trace.setSpanContext(api().ROOT_CONTEXT, {
              traceId: caller.traceId,
              spanId: caller.spanId,
              traceFlags: caller.flags & api().TraceFlags.SAMPLED,
              isRemote: true,
            }),
          )
        : this.tracer.startSpan(
            `run ${workflowId ?? event.runId}`,
            { root: true, kind: api().SpanKind.INTERNAL, startTime: at, attributes },
            api().ROOT_CONTEXT,
          );
    } finally {
      this.ids.pending = undefined;
    }
    if (info) this.describeRun(span, info);
    run = { span, info, attempts: new Map(), gates: new Map(), backoff: new Map() };
    this.runs.set(event.runId, run);
    return run;
  }

  private describeRun(span: Span, info: TracedRunInfo): void {
    span.updateName(`run ${info.workflowName}`);
    span.setAttributes({
      [TRACE_ATTR.workflowId]: info.workflowId,
      [TRACE_ATTR.workflowVersion]: info.version,
      [TRACE_ATTR.workflowName]: info.workflowName,
    });
  }

  private nodeAttributes(run: RunState, runId: string, nodeId: string, item: number | undefined): Attributes {
    const attrs: Attributes = { [TRACE_ATTR.runId]: runId, [TRACE_ATTR.nodeId]: nodeId };
    const info = run.info;
    if (info) {
      attrs[TRACE_ATTR.workflowId] = info.workflowId;
      attrs[TRACE_ATTR.workflowVersion] = info.version;
    }
    if (item !== undefined) attrs[TRACE_ATTR.nodeItem] = item;
    let def: NodeDefinition | Record<string, unknown> | undefined = info?.node(nodeId);
    // A map item runs the map's `do` body.
    if (item !== undefined && def && typeof (def as { do?: unknown }).do === 'object')
      def = (def as { do: Record<string, unknown> }).do;
    const d = def as { type?: unknown; agent?: unknown; tool?: unknown } | undefined;
    if (typeof d?.type === 'string') attrs[TRACE_ATTR.nodeType] = d.type;
    if (d?.agent !== undefined) {
      const agent = typeof d.agent === 'string' ? d.agent : String((d.agent as { url?: unknown }).url ?? '');
      attrs[TRACE_ATTR.agent] = agent;
      attrs[TRACE_ATTR.genAiAgentName] = agent;
      attrs[TRACE_ATTR.genAiOperation] = 'invoke_agent';
    }
    if (typeof d?.tool === 'string') {
      attrs[TRACE_ATTR.tool] = d.tool;
      attrs[TRACE_ATTR.genAiToolName] = d.tool;
      attrs[TRACE_ATTR.genAiOperation] = 'execute_tool';
    }
    return attrs;
  }

  private startAttempt(run: RunState, runId: string, nodeId: string, item: number | undefined, attempt: number, at: Date): void {
    const nodeKey = `${nodeId}\u0000${item ?? ''}`;
    const previous = run.attempts.get(nodeKey);
    if (previous) {
      previous.span.setAttribute(TRACE_ATTR.outcome, 'unfinished');
      previous.span.end(at);
      unregisterAttemptSpan(previous.key);
    }
    const attributes = this.nodeAttributes(run, runId, nodeId, item);
    attributes[TRACE_ATTR.attempt] = attempt;
    const backoff = run.backoff.get(nodeKey);
    if (backoff !== undefined) {
      attributes[TRACE_ATTR.backoffMs] = backoff;
      run.backoff.delete(nodeKey);
    }
    const type = typeof attributes[TRACE_ATTR.nodeType] === 'string' ? `${attributes[TRACE_ATTR.nodeType]} ` : '';
    const span = this.tracer.startSpan(
      `${type}${nodeId}${item === undefined ? '' : `[${item}]`}`,
      { kind: api().SpanKind.INTERNAL, startTime: at, attributes },
      api().trace.setSpan(api().ROOT_CONTEXT, run.span),
    );
    const key = attemptKey(runId, nodeId, item, attempt);
    registerAttemptSpan(key, span);
    run.attempts.set(nodeKey, { span, key });
  }

  private endAttempt(
    run: RunState,
    nodeKey: string,
    at: Date,
    code: Api.SpanStatusCode,
    outcome: string,
    decorate?: (s: Span) => void,
  ): void {
    const a = run.attempts.get(nodeKey);
    if (!a) return;
    run.attempts.delete(nodeKey);
    unregisterAttemptSpan(a.key);
    a.span.setAttribute(TRACE_ATTR.outcome, outcome);
    if (code !== api().SpanStatusCode.UNSET) a.span.setStatus({ code });
    decorate?.(a.span);
    a.span.end(at);
  }
}

/**
 * The span context of a run's span: its span id is derived from the run id; its trace id too,
 * unless the run continues a caller's trace (`traceParent`, as stored with the run).
 */
export function runSpanContext(runId: string, traceParent?: string) {
  const caller = decodeTraceParent(traceParent);
  return { traceId: caller?.traceId ?? runTraceId(runId), spanId: runSpanId(runId), traceFlags: api().TraceFlags.SAMPLED };
}
