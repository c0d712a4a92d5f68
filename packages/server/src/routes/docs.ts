/** The API described: the OpenAPI document and a self-contained page that renders it (no CDN). */
import { z } from 'zod';
import { DOCS_PAGE, DOCS_PAGE_SCRIPT } from '../http/docs-page.ts';
import type { Api } from '../http/route.ts';
import { policyForInlineScript } from '../http/security-headers.ts';

export function docsRoutes(api: Api, openapi: () => Record<string, unknown>): void {
  const docsPolicy = policyForInlineScript(DOCS_PAGE_SCRIPT);
  api.route({
    method: 'GET',
    path: '/openapi.json',
    operationId: 'openapi',
    summary: 'This document (OpenAPI 3.1)',
    tags: ['operations'],
    access: { kind: 'public' },
    responses: { 200: { description: 'the document', schema: z.record(z.string(), z.unknown()) } },
    handler: async () => openapi(),
  });
  api.route({
    method: 'GET',
    path: '/docs',
    operationId: 'docs',
    summary: 'The API reference, rendered',
    tags: ['operations'],
    access: { kind: 'public' },
    responses: { 200: { description: 'an HTML page', schema: z.string(), contentType: 'text/html' } },
    handler: async ({ reply }) => {
      reply.type('text/html; charset=utf-8').header('content-security-policy', docsPolicy);
      return DOCS_PAGE;
    },
  });
}
