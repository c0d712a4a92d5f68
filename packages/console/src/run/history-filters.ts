/** The run history's filter form, as the query `GET /workflow_runs` takes. Dates are the user's local days. */
import type { RunStatus } from '@trellis/core';
import type { RunHistoryQuery } from '../api/types.ts';

export interface HistoryFilters {
  status: RunStatus | '';
  /** `YYYY-MM-DD` (an `<input type="date">`), inclusive; '' for no bound. */
  from: string;
  to: string;
  origin: '' | 'manual' | 'schedule' | 'webhook';
}

/** Local midnight of a `YYYY-MM-DD` day, plus `days`, as ISO; undefined for '' or a malformed day. */
export function localDayStart(day: string, days = 0): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return undefined;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + days);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function historyQuery(f: HistoryFilters): RunHistoryQuery {
  const q: RunHistoryQuery = {};
  if (f.status) q.status = [f.status];
  const since = localDayStart(f.from);
  const until = localDayStart(f.to, 1); // "to" is inclusive: until the next day's midnight
  if (since) q.since = since;
  if (until) q.until = until;
  if (f.origin) q.origin = f.origin;
  return q;
}
