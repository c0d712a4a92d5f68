/**
 * A small kit for the demo agents: builds agent cards, messages and parts in the A2A 1.0 shape
 * of `@a2a-js/sdk`, and serves an `AgentExecutor` over JSON-RPC on an ephemeral loopback port.
 * Each demo agent is ~50 lines on top of this, so the example reads as "what the agent does".
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  A2A_PROTOCOL_VERSION,
  AGENT_CARD_PATH,
  type AgentCard,
  type Message,
  type Part,
  Role,
  type Task,
  TaskState,
} from '@a2a-js/sdk';
import {
  AgentEvent,
  type AgentExecutor,
  DefaultRequestHandler,
  type ExecutionEventBus,
  InMemoryTaskStore,
  type RequestContext,
} from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler, UserBuilder } from '@a2a-js/sdk/server/express';
import express from 'express';

export interface SkillSpec {
  id: string;
  name: string;
  description: string;
  tags: string[];
  examples?: string[];
}

export interface AgentSpec {
  name: string;
  description: string;
  skills: SkillSpec[];
  /** Whether the card advertises streaming (SendStreamingMessage / SubscribeToTask). */
  streaming: boolean;
  executor: AgentExecutor;
  /** `'0.3'` serves a v0.3 agent card and accepts v0.3 JSON-RPC (the SDK's compat layer). */
  protocol?: '1.0' | '0.3';
  /**
   * When set, calls need `Authorization: Bearer <token>` (401 otherwise) and the card declares an
   * HTTP Bearer security scheme; the card itself stays public.
   */
  bearerToken?: string;
}

/**
 * The W3C `traceparent` of every A2A request the demo agents received (agent name, header), in
 * arrival order: how a test sees that a caller's trace reached the agent. Kept to the last 1,000.
 */
export const receivedTraceparents: { agent: string; traceparent: string }[] = [];

export interface RunningAgent {
  name: string;
  /** Base URL; the card is at `<url>/.well-known/agent-card.json`. */
  url: string;
  card: AgentCard;
  close(): Promise<void>;
}

export function textPart(text: string): Part {
  return { content: { $case: 'text', value: text }, metadata: undefined, filename: '', mediaType: 'text/plain' };
}

export function dataPart(data: Record<string, unknown>): Part {
  return { content: { $case: 'data', value: data }, metadata: undefined, filename: '', mediaType: 'application/json' };
}

export function agentMessage(
  ctx: { taskId: string; contextId: string },
  parts: Part[],
  metadata?: Record<string, unknown>,
): Message {
  return {
    messageId: randomUUID(),
    role: Role.ROLE_AGENT,
    parts,
    taskId: ctx.taskId,
    contextId: ctx.contextId,
    extensions: [],
    metadata: metadata ?? {},
    referenceTaskIds: [],
  };
}

/** The text and data parts of the user's message, merged: what a demo agent works from. */
export function readUserMessage(message: Message): { text: string; data: Record<string, unknown> } {
  const texts: string[] = [];
  let data: Record<string, unknown> = {};
  for (const p of message.parts) {
    if (p.content?.$case === 'text') texts.push(p.content.value);
    if (p.content?.$case === 'data' && p.content.value && typeof p.content.value === 'object') {
      data = { ...data, ...(p.content.value as Record<string, unknown>) };
    }
  }
  return { text: texts.join('\n'), data };
}

/** Publishes the initial task (if new) and the `working` state. */
export function startTask(rc: RequestContext, bus: ExecutionEventBus): { taskId: string; contextId: string } {
  const ids = { taskId: rc.taskId, contextId: rc.contextId };
  if (rc.task) {
    // A follow-up message on an existing task: a stream must still open with the task.
    bus.publish(AgentEvent.task({ ...rc.task, history: [...rc.task.history, rc.userMessage] }));
  } else {
    const task: Task = {
      id: rc.taskId,
      contextId: rc.contextId,
      status: { state: TaskState.TASK_STATE_SUBMITTED, timestamp: new Date().toISOString(), message: undefined },
      artifacts: [],
      history: [rc.userMessage],
      metadata: {},
    };
    bus.publish(AgentEvent.task(task));
  }
  publishState(bus, ids, TaskState.TASK_STATE_WORKING);
  return ids;
}

export function publishState(
  bus: ExecutionEventBus,
  ids: { taskId: string; contextId: string },
  state: TaskState,
  message?: Message,
  metadata?: Record<string, unknown>,
): void {
  bus.publish(
    AgentEvent.statusUpdate({
      taskId: ids.taskId,
      contextId: ids.contextId,
      status: { state, timestamp: new Date().toISOString(), message },
      metadata: metadata ?? {},
    }),
  );
}

export function publishArtifact(
  bus: ExecutionEventBus,
  ids: { taskId: string; contextId: string },
  name: string,
  parts: Part[],
): void {
  bus.publish(
    AgentEvent.artifactUpdate({
      taskId: ids.taskId,
      contextId: ids.contextId,
      artifact: { artifactId: randomUUID(), name, description: '', parts, metadata: {}, extensions: [] },
      append: false,
      lastChunk: true,
      metadata: {},
    }),
  );
}

/** Resolves after `ms`, or early (false) when `cancelled()` turns true. */
export async function sleepUnless(ms: number, cancelled: () => boolean): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (cancelled()) return false;
    await new Promise((r) => setTimeout(r, Math.min(25, until - Date.now())));
  }
  return !cancelled();
}

/** Serves an agent on 127.0.0.1 (ephemeral port unless given). */
export async function startAgent(spec: AgentSpec, options: { port?: number; host?: string } = {}): Promise<RunningAgent> {
  const host = options.host ?? '127.0.0.1';
  const app = express();
  const server = app.listen(options.port ?? 0, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const url = `http://${host}:${(server.address() as AddressInfo).port}`;
  const card: AgentCard = {
    name: spec.name,
    description: spec.description,
    supportedInterfaces: [
      {
        url: `${url}/a2a`,
        protocolBinding: 'JSONRPC',
        tenant: '',
        // The SDK checks each request's A2A-Version against the versions the card declares.
        protocolVersion: spec.protocol === '0.3' ? '0.3' : A2A_PROTOCOL_VERSION,
      },
    ],
    provider: { organization: 'Trellis demo', url: 'https://github.com/trellis' },
    version: '1.0.0',
    capabilities: { streaming: spec.streaming, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: spec.bearerToken
      ? {
          bearer: {
            scheme: {
              $case: 'httpAuthSecurityScheme',
              value: { scheme: 'Bearer', description: 'a token issued by the demo', bearerFormat: '' },
            },
          },
        }
      : {},
    securityRequirements: spec.bearerToken ? [{ schemes: { bearer: { list: [] } } }] : [],
    defaultInputModes: ['text', 'application/json'],
    defaultOutputModes: ['text', 'application/json'],
    skills: spec.skills.map((s) => ({
      id: s.id,
      name: s.name,
      description: s.description,
      tags: s.tags,
      examples: s.examples ?? [],
      inputModes: [],
      outputModes: [],
      securityRequirements: [],
    })),
    documentationUrl: '',
    signatures: [],
  };
  const requestHandler = new DefaultRequestHandler(card, new InMemoryTaskStore(), spec.executor);
  if (spec.protocol === '0.3') {
    // A v0.3 peer: its card has the v0.3 shape (top-level url / protocolVersion 0.3.0) and it
    // speaks v0.3 JSON-RPC (`message/send`, `tasks/get`…), served by the SDK's compat layer.
    const legacyCard = {
      protocolVersion: '0.3.0',
      name: spec.name,
      description: spec.description,
      url: `${url}/a2a`,
      preferredTransport: 'JSONRPC',
      version: '1.0.0',
      capabilities: { streaming: spec.streaming, pushNotifications: false },
      // It reads data parts: it says so (a text-only declaration gets the input as JSON text).
      defaultInputModes: ['text', 'application/json'],
      defaultOutputModes: ['text'],
      skills: spec.skills.map((s) => ({ ...s, examples: s.examples ?? [] })),
    };
    app.get(`/${AGENT_CARD_PATH}`, (_req, res) => {
      res.json(legacyCard);
    });
  } else if (spec.bearerToken) {
    // The SDK's card handler writes the security scheme's internal `$case` form; A2A JSON names
    // the scheme by its field (`httpAuthSecurityScheme`), which is what clients parse.
    app.get(`/${AGENT_CARD_PATH}`, (_req, res) => {
      res.json({
        ...card,
        securitySchemes: { bearer: { httpAuthSecurityScheme: { scheme: 'Bearer', description: 'a token issued by the demo' } } },
        securityRequirements: [{ schemes: { bearer: { list: [] } } }],
      });
    });
  } else {
    app.use(`/${AGENT_CARD_PATH}`, agentCardHandler({ agentCardProvider: requestHandler }));
  }
  if (spec.bearerToken) {
    const expected = `Bearer ${spec.bearerToken}`;
    app.use('/a2a', (req, res, next) => {
      if (req.headers.authorization === expected) return next();
      res.status(401).set('www-authenticate', 'Bearer').json({ error: 'a valid bearer token is required' });
    });
  }
  app.use('/a2a', (req, _res, next) => {
    const tp = req.headers.traceparent;
    if (typeof tp === 'string') {
      receivedTraceparents.push({ agent: spec.name, traceparent: tp });
      if (receivedTraceparents.length > 1000) receivedTraceparents.shift();
    }
    next();
  });
  app.use('/a2a', jsonRpcHandler({ requestHandler, userBuilder: UserBuilder.noAuthentication, legacyCompat: { enabled: true } }));
  return {
    name: spec.name,
    url,
    card,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
