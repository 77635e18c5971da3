import { nowMs, utcDate } from '#core/clock';
import { invalidField } from '#core/errors';

const DAY_MS = 86_400_000;

/** `from` inclusive, `to` inclusive; a bare date covers its whole UTC day. */
export function timeRange(from: string | undefined, to: string | undefined, defaultDays?: number) {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/;
  const end = to ? Date.parse(dateOnly.test(to) ? `${to}T23:59:59.999Z` : to) : Math.max(nowMs(), from ? Date.parse(from) : 0);
  const start = from ? Date.parse(from) : defaultDays ? end - defaultDays * DAY_MS : 0;
  if (start > end) throw invalidField('from', 'must not be after to');
  return { start, end };
}

/** The UTC days from..to, inclusive, as `YYYY-MM-DD`. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS) days.push(utcDate(t));
  return days;
}

export { DAY_MS };
