/** Run analytics of a workflow (`GET /workflows/:id/analytics`). */
import { z } from 'zod';

export const ANALYTICS_WINDOWS = ['24h', '7d', '30d'] as const;
export type AnalyticsWindow = (typeof ANALYTICS_WINDOWS)[number];

/** Each window's length and the bucket its series uses. */
export const WINDOW_SPECS: Record<AnalyticsWindow, { ms: number; bucket: 'hour' | 'day' }> = {
  '24h': { ms: 86_400_000, bucket: 'hour' },
  '7d': { ms: 7 * 86_400_000, bucket: 'hour' },
  '30d': { ms: 30 * 86_400_000, bucket: 'day' },
};

export const analyticsQuery = z.object({
  window: z
    .enum(ANALYTICS_WINDOWS)
    .default('7d')
    .describe('The time window ending now: 24h and 7d by the hour, 30d by the day (default 7d).'),
});

const byStatus = z.record(z.string(), z.number().int()).describe('Runs by status.');
const ms = z.number().int().nullable();

export const workflowAnalyticsSchema = z.object({
  workflowId: z.string(),
  window: z.enum(ANALYTICS_WINDOWS),
  from: z.string().describe('Start of the window (runs created at or after), ISO.'),
  to: z.string().describe('End of the window (runs created before), ISO.'),
  bucket: z.enum(['hour', 'day']),
  totals: z.object({
    runs: z.number().int(),
    byStatus,
    costUsd: z.number(),
    costPerRunUsd: z.number(),
    p50Ms: ms.describe('Median duration of the finished runs (estimated within 2.5 %).'),
    p95Ms: ms,
  }),
  series: z.array(
    z.object({
      start: z.string().describe('The bucket start, ISO; the bucket spans one hour or day.'),
      byStatus,
      runs: z.number().int(),
      costUsd: z.number(),
      costPerRunUsd: z.number(),
      p50Ms: ms,
      p95Ms: ms,
    }),
  ),
  nodes: z.object({
    runsSampled: z.number().int().describe("How many of the window's most recent runs the node statistics cover."),
    stats: z.array(
      z.object({
        nodeId: z.string(),
        type: z.string().nullable().describe("The node's type in the latest version (null: no longer in it)."),
        count: z.number().int(),
        failed: z.number().int(),
        avgMs: ms,
        p50Ms: ms,
        p95Ms: ms,
        maxMs: ms,
        totalCostUsd: z.number(),
        avgCostUsd: z.number(),
      }),
    ),
  }),
  failures: z.array(
    z.object({
      code: z.string(),
      count: z.number().int(),
      lastRunId: z.string(),
      lastAt: z.string(),
      message: z.string(),
    }),
  ),
});
