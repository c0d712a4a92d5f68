/**
 * The payload schemas of the Trellis HTTP API (zod): what each route accepts and answers. The
 * server validates requests and builds its OpenAPI document from them; the client and the
 * console parse responses with them. One module, so the two sides cannot drift apart.
 * Every export of these files is part of the API contract.
 */
export * from './agents.ts';
export * from './analytics.ts';
export * from './call-info.ts';
export * from './common.ts';
export * from './runs.ts';
export * from './scratch.ts';
export * from './secrets.ts';
export * from './templates.ts';
export * from './tokens.ts';
export * from './tool-servers.ts';
export * from './triggers.ts';
export * from './workflows.ts';
