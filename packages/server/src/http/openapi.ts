/**
 * The OpenAPI 3.1 document, generated from the registered route specs (their zod schemas via
 * `z.toJSONSchema`, whose draft 2020-12 output is what OpenAPI 3.1 uses). Nothing here is
 * written by hand per route, so the document cannot disagree with the routes; a test checks
 * the document against the routes Fastify actually serves.
 */
import { z } from 'zod';
import { type AnyRouteSpec, API_PREFIX } from './route.ts';

type JsonObject = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const s = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonObject;
  delete s.$schema;
  return s;
}

/** `/workflows/:id` → `/workflows/{id}` */
export function openApiPath(path: string): string {
  return `${API_PREFIX}${path}`.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonObject[] {
  if (!schema) return [];
  const s = jsonSchema(schema, 'input');
  const props = (s.properties ?? {}) as Record<string, JsonObject>;
  const required = new Set((s.required ?? []) as string[]);
  return Object.entries(props).map(([name, p]) => {
    const { description, ...rest } = p;
    return {
      name,
      in: where,
      required: where === 'path' ? true : required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

const PROBLEM_SCHEMA = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    requestId: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string' },
          message: { type: 'string' },
          nodes: { type: 'array', items: { type: 'string' } },
          path: { type: 'string' },
        },
      },
    },
  },
};

function accessExtension(route: AnyRouteSpec): JsonObject {
  const a = route.access;
  return a.kind === 'workflow' || a.kind === 'run' ? { kind: a.kind, role: a.role } : { kind: a.kind };
}

export function buildOpenApi(
  routes: readonly AnyRouteSpec[],
  info: { version: string; serverUrl?: string | undefined },
): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const r of routes) {
    const responses: Record<string, JsonObject> = {};
    for (const [status, spec] of Object.entries(r.responses)) {
      responses[status] = {
        description: spec.description,
        ...(spec.schema
          ? {
              content: {
                [spec.contentType ?? 'application/json']: { schema: jsonSchema(spec.schema, 'output') },
                ...(spec.also ? { [spec.also.contentType]: { schema: jsonSchema(spec.also.schema, 'output') } } : {}),
              },
            }
          : {}),
      };
    }
    const errorStatuses = ['400', ...(r.access.kind === 'public' ? [] : ['401', '403', '429'])];
    if (r.access.kind === 'workflow' || r.access.kind === 'run' || r.path.includes(':')) errorStatuses.push('404');
    for (const s of errorStatuses) {
      responses[s] ??= {
        description: 'error',
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      };
    }
    const bodySchema = r.bodyDoc ?? r.body;
    const op: JsonObject = {
      operationId: r.operationId,
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      tags: r.tags,
      parameters: [
        ...parameters(r.params, 'path'),
        ...parameters(r.query, 'query'),
        ...(r.headers ?? []).map((h) => ({
          name: h.name,
          in: 'header',
          required: h.required === true,
          description: h.description,
          schema: { type: 'string' },
        })),
      ],
      ...(bodySchema
        ? {
            requestBody: {
              required: !(r.body ?? bodySchema).safeParse(undefined).success,
              content: { 'application/json': { schema: jsonSchema(bodySchema, 'input') } },
            },
          }
        : {}),
      responses,
      ...(r.access.kind === 'public' ? { security: [] } : {}),
      'x-trellis-access': accessExtension(r),
      ...(r.websocket ? { 'x-trellis-websocket': true } : {}),
    };
    const path = openApiPath(r.path);
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Trellis API',
      version: info.version,
      description: 'Durable DAG workflows that orchestrate AI agents and tools. Errors are application/problem+json (RFC 9457).',
    },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    security: [{ bearer: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API token (trls_…); `trellis token create`.' },
      },
      schemas: { Problem: PROBLEM_SCHEMA },
    },
    paths,
  };
}
