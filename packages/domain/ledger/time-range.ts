import { invalidField } from '../../core/errors';

/** `from` inclusive, `to` inclusive; a bare date covers its whole UTC day. */
export function timeRange(from: string | undefined, to: string | undefined, defaultDays?: number) {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/;
  const end = to ? Date.parse(dateOnly.test(to) ? `${to}T23:59:59.999Z` : to) : Math.max(Date.now(), from ? Date.parse(from) : 0);
  const start = from ? Date.parse(from) : defaultDays ? end - defaultDays * 86400_000 : 0;
  if (start > end) throw invalidField('from', 'must not be after to');
  return { start, end };
}
