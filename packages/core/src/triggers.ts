/**
 * Triggers: what starts a run besides an API call. A definition may carry `triggers`:
 *
 * - `schedule`: a cron expression (five fields, or an alias such as `@hourly`) in a time zone
 *   (IANA name, default UTC). Each due tick starts exactly one run.
 * - `webhook`: `POST /api/v1/hooks/:workflowId/:triggerId`, signed with the trigger's secret
 *   (HMAC-SHA256 of the raw body); `input` is an optional JSONata expression over `$body`,
 *   `$headers` and `$query` that maps the delivery to the run's input (default: the body).
 *
 * Cron parsing and next-time computation use `croner` (maintained, no dependencies, handles time
 * zones and daylight-saving transitions). This module is pure: no clock is read here, callers pass
 * the instant to compute from.
 */
import { Cron } from 'croner';
import { z } from 'zod';

export const TRIGGER_TYPES = ['schedule', 'webhook'] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];

export const TRIGGER_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]*$/;

const triggerId = z
  .string()
  .min(1)
  .max(64)
  .regex(TRIGGER_ID_PATTERN, 'a trigger id starts with a letter or "_" and holds letters, digits, "_" and "-"')
  .describe("Unique among the workflow's triggers; part of the webhook URL.");

export const scheduleTriggerSchema = z
  .object({
    id: triggerId,
    type: z.literal('schedule'),
    cron: z
      .string()
      .min(1)
      .max(200)
      .describe('Five-field cron ("0 * * * *") or an alias: @yearly, @monthly, @weekly, @daily, @hourly.'),
    timezone: z.string().min(1).max(100).optional().describe('IANA time zone (default UTC), e.g. "Europe/Paris".'),
    input: z.unknown().optional().describe("The run's input for every tick (default {})."),
    enabled: z.boolean().optional().describe('false pauses the schedule (default true).'),
  })
  .strict();

export const webhookTriggerSchema = z
  .object({
    id: triggerId,
    type: z.literal('webhook'),
    input: z
      .string()
      .max(20_000)
      .optional()
      .describe("JSONata over $body, $headers and $query giving the run's input (default: the body)."),
    enabled: z.boolean().optional().describe('false refuses deliveries with 404 (default true).'),
  })
  .strict();

export const triggerSchema = z.discriminatedUnion('type', [scheduleTriggerSchema, webhookTriggerSchema]);
export type TriggerDefinition = z.output<typeof triggerSchema>;
export type ScheduleTrigger = z.output<typeof scheduleTriggerSchema>;
export type WebhookTrigger = z.output<typeof webhookTriggerSchema>;

/** What started a run, as its record shows it. */
export type RunTrigger =
  | { id: string; type: 'schedule'; tick: string }
  | { id: string; type: 'webhook'; deliveryId: string | null };

/** Cron aliases croner accepts, spelled out (so messages and docs can list them). */
export const CRON_ALIASES = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'] as const;

export type CronCheck = { ok: true } | { ok: false; message: string };

/** Is `tz` a time zone this runtime knows (IANA name)? */
export function isValidTimeZone(tz: string): boolean {
  if (knownTimeZones.has(tz)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    if (knownTimeZones.size < 1024) knownTimeZones.add(tz);
    return true;
  } catch {
    return false;
  }
}
const knownTimeZones = new Set<string>(['UTC']);

function makeCron(expression: string, timezone: string | undefined): Cron {
  // `paused` so that croner never arms a timer of its own: Trellis runs one loop for all triggers.
  // UTC as a fixed offset: the same instants, without a time-zone conversion at every step.
  const zone = timezone === undefined || timezone === 'UTC' || timezone === 'Etc/UTC' ? { utcOffset: 0 } : { timezone };
  return new Cron(expression.trim(), { ...zone, paused: true, mode: '5-part' });
}

/**
 * Parsed schedules, by expression and time zone. Parsing dominates a next-time computation, and
 * thousands of schedules share a handful of expressions; a paused Cron is only read (`nextRuns`),
 * so sharing one is safe. Bounded: the oldest entry goes when the cache is full.
 */
const cronCache = new Map<string, Cron>();
const CRON_CACHE_SIZE = 1024;

function cachedCron(expression: string, timezone: string | undefined): Cron {
  const key = `${timezone ?? 'UTC'}\u0000${expression.trim()}`;
  let cron = cronCache.get(key);
  if (cron === undefined) {
    cron = makeCron(expression, timezone);
    if (cronCache.size >= CRON_CACHE_SIZE) cronCache.delete(cronCache.keys().next().value as string);
    cronCache.set(key, cron);
  }
  return cron;
}

/** Checks a cron expression and time zone; the message says what to fix. */
export function checkCron(expression: string, timezone?: string): CronCheck {
  const key = `${timezone ?? ''}\u0000${expression}`;
  let result = checkCache.get(key);
  if (result === undefined) {
    result = checkCronUncached(expression, timezone);
    if (checkCache.size >= 1024) checkCache.delete(checkCache.keys().next().value as string);
    checkCache.set(key, result);
  }
  return result;
}
const checkCache = new Map<string, CronCheck>();

function checkCronUncached(expression: string, timezone?: string): CronCheck {
  if (timezone !== undefined && !isValidTimeZone(timezone))
    return { ok: false, message: `unknown time zone "${timezone}"; use an IANA name such as "UTC" or "Europe/Paris"` };
  const trimmed = expression.trim();
  if (!trimmed.startsWith('@') && trimmed.split(/\s+/).length !== 5)
    return {
      ok: false,
      message: `cron "${trimmed}" must have five fields (minute hour day-of-month month day-of-week) or be one of ${CRON_ALIASES.join(', ')}`,
    };
  try {
    const cron = cachedCron(trimmed, timezone);
    if (cron.nextRun(new Date(0)) === null && cron.nextRun() === null)
      return { ok: false, message: `cron "${trimmed}" never fires` };
    return { ok: true };
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/^CronPattern: /, '') : String(err);
    return { ok: false, message: `cron "${trimmed}" is not valid: ${why}` };
  }
}

/**
 * The next `count` fire times strictly after `after` (epoch ms), in time order. Daylight-saving
 * transitions: a wall-clock time skipped by a spring-forward fires at the first valid moment after
 * it (02:30 on the changeover day fires at 03:00), and a time repeated by a fall-back fires once.
 */
export function nextFireTimes(expression: string, timezone: string | undefined, after: number, count = 1): number[] {
  const cron = cachedCron(expression, timezone);
  return cron.nextRuns(count, new Date(after)).map((d) => d.getTime());
}

/** The next fire time strictly after `after`, or undefined if the schedule never fires again. */
export function nextFireTime(expression: string, timezone: string | undefined, after: number): number | undefined {
  // Thousands of schedules sharing an expression are due at the same tick: compute their next once.
  const key = `${timezone ?? 'UTC'}\u0000${expression}\u0000${after}`;
  if (nextCache.has(key)) return nextCache.get(key);
  const next = nextFireTimes(expression, timezone, after, 1)[0];
  if (nextCache.size >= 256) nextCache.delete(nextCache.keys().next().value as string);
  nextCache.set(key, next);
  return next;
}
const nextCache = new Map<string, number | undefined>();
