import { utcDate } from '#core/clock';
import { invalidField } from '#core/errors';
import { decodeCursor, encodeCursor, foreignCursor } from '#db/cursor';
import { type AccountItem, accountKey, accountShape } from '#db/items/account';
import { type AccountDayRollup, accountDays, accountTotals, agencyDays } from '#db/items/usage-rollup';
import { foundItem, getItems } from '#db/read';
import { type AgencyUsageQuery, type UsageQuery, usageTypes } from './schemas';
import { DAY_MS, daysBetween, timeRange } from './time-range';

/**
 * The usage dashboards, read from the per-account-per-day usage rollups (built from the table
 * stream a few seconds behind the ledger: db/items/usage-rollup.ts).
 */
const MAX_RANGE_DAYS = 366;

function dayRange(q: UsageQuery) {
  const { start, end } = timeRange(q.from, q.to, 29);
  if (end - start > MAX_RANGE_DAYS * DAY_MS) throw invalidField('from', `the range may span at most ${MAX_RANGE_DAYS} days`);
  return { from: utcDate(start), to: utcDate(end) };
}

function dailySeries(days: AccountDayRollup[], from: string, to: string) {
  const byDate = new Map<string, number>();
  for (const d of days) byDate.set(d.date, (byDate.get(d.date) ?? 0) + d.total);
  return daysBetween(from, to).map((date) => ({ date, credits: byDate.get(date) ?? 0 }));
}

/**
 * The days from..to as whole UTC months and the days left at either end: the periods the
 * per-account totals are kept for (db/items/usage-rollup.ts), so a year is ≤ 13 month items
 * and ≤ 60 day items per part, never a day per account.
 */
export function periodsOf(from: string, to: string): { months?: [string, string]; days: Array<[string, string]> } {
  const monthOf = (d: string) => d.slice(0, 7);
  const firstWhole = from.endsWith('-01') ? monthOf(from) : nextMonth(monthOf(from));
  const lastWhole = utcDate(Date.parse(`${to}T00:00:00Z`) + DAY_MS).endsWith('-01') ? monthOf(to) : prevMonth(monthOf(to));
  if (firstWhole > lastWhole) return { days: [[from, to]] };
  const days: Array<[string, string]> = [];
  if (from < `${firstWhole}-01`) days.push([from, utcDate(Date.parse(`${firstWhole}-01T00:00:00Z`) - DAY_MS)]);
  const afterLast = `${nextMonth(lastWhole)}-01`;
  if (to >= afterLast) days.push([afterLast, to]);
  return { months: [firstWhole, lastWhole], days };
}

function nextMonth(m: string): string {
  const d = new Date(`${m}-01T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + 1);
  return d.toISOString().slice(0, 7);
}
function prevMonth(m: string): string {
  const d = new Date(`${m}-01T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() - 1);
  return d.toISOString().slice(0, 7);
}

/** Where the ranking carries on: the rank of the next row, for this range only. */
function cursorRank(cursor: string | undefined, from: string, to: string): number {
  if (!cursor) return 0;
  const c = decodeCursor(cursor);
  const rank = Number(c?.rank);
  if (!c || c.range !== `${from}..${to}` || !/^\d{1,6}$/.test(c.rank ?? '') || !Number.isSafeInteger(rank)) throw foreignCursor();
  return rank;
}

/**
 * Agency dashboard for whole days from..to (≤ 366) in one answer: the total and daily series
 * (the agency's day rollups), the agency's own use, and its sub-accounts ranked by credits used
 * (most first, then by id), `limit` at a time: `nextCursor` gives the next ranks (the same
 * from/to; the totals and series are the whole range's on every page). It reads the agency's
 * day items and its per-account totals (≤ 8 parts × (13 months + 60 days)), then the names of
 * the rows it returns only: never a list of every sub-account, never a day per account.
 */
export async function agencyUsage(agencyId: string, q: AgencyUsageQuery) {
  const { from, to } = dayRange(q);
  const rank = cursorRank(q.cursor, from, to);
  const [days, totals] = await Promise.all([agencyDays(agencyId, from, to), accountTotals(agencyId, periodsOf(from, to))]);
  const ranked = [...totals]
    .filter(([id, credits]) => id !== agencyId && credits > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const rows = ranked.slice(rank, rank + q.limit);
  const names = rows.length ? await getItems(rows.map(([id]) => accountKey(id))) : new Map<string, Record<string, unknown>>();
  const byDate = new Map(days.map((d) => [d.date, d.total]));
  return {
    from,
    to,
    total: days.reduce((n, d) => n + d.total, 0),
    agencyOwn: totals.get(agencyId) ?? 0,
    subAccountsWithUsage: ranked.length,
    bySubAccount: rows.map(([subAccountId, credits]) => ({
      subAccountId,
      name: foundItem(names, accountKey(subAccountId), accountShape)?.name ?? null,
      credits,
    })),
    series: daysBetween(from, to).map((date) => ({ date, credits: byDate.get(date) ?? 0 })),
    nextCursor: rank + q.limit < ranked.length ? encodeCursor({ rank: String(rank + q.limit), range: `${from}..${to}` }) : null,
  };
}

/** One account's own usage: totals, by type and daily (at most 366 counters, of this account only). Never a balance. */
export async function accountUsage(account: AccountItem, q: UsageQuery) {
  const { from, to } = dayRange(q);
  const days = await accountDays(account.id, from, to);
  const byType = Object.fromEntries(usageTypes.map((t) => [t, days.reduce((n, d) => n + (Number(d[t]) || 0), 0)]));
  return { from, to, total: days.reduce((n, d) => n + d.total, 0), byType, series: dailySeries(days, from, to) };
}
