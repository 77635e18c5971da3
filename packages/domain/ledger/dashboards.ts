import { utcDate } from '../../core/clock';
import { invalidField } from '../../core/errors';
import { decodeCursor, encodeCursor, foreignCursor } from '../../db/cursor';
import { type AccountItem, listSubAccounts } from '../../db/items/account';
import { type AccountDayRollup, accountDays, agencyAccountDaysPage } from '../../db/items/usage-rollup';
import { queryAllPages } from '../../db/query';
import { type AgencyUsageQuery, type UsageQuery, usageTypes } from './schemas';
import { DAY_MS, daysBetween, timeRange } from './time-range';

/**
 * The usage dashboards, read from the per-account-per-day usage rollups (built from the table
 * stream a few seconds behind the ledger: db/items/usage-rollup.ts).
 */
const MAX_RANGE_DAYS = 366;

/**
 * The agency dashboard reads at most this many account days per request (a few queries: an
 * item is about 200 bytes, plus about 90 per stream shard whose batches counted in it that day):
 * an agency with 1,000 sub-accounts gets 10 days a page, one with 30 a year in one.
 */
export const AGENCY_COUNTER_BUDGET = 10_000;
const PAGE = 1_000;

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
 * The agency's counters from `start` to `to`, at most `budget` of them and always whole days:
 * when the budget runs out inside a day, that day is left to the next request (`nextDay`). A
 * first day with more counters than the budget is read whole (one counter per account at most).
 */
async function agencyCounters(agencyId: string, start: string, to: string, budget: number) {
  const days: AccountDayRollup[] = [];
  let cursor: string | undefined;
  do {
    const page = await agencyAccountDaysPage(agencyId, start, to, { limit: Math.min(PAGE, budget - days.length), cursor });
    days.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && days.length < budget);
  const last = days.at(-1)?.date;
  if (!cursor || !last) return { days, nextDay: undefined };
  if (last !== days[0]?.date) return { days: days.filter((d) => d.date !== last), nextDay: last };
  do {
    const page = await agencyAccountDaysPage(agencyId, start, last, { limit: PAGE, cursor });
    days.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  const next = utcDate(Date.parse(`${last}T00:00:00Z`) + DAY_MS);
  return { days, nextDay: next <= to ? next : undefined };
}

/** The day a dashboard cursor resumes at; only a cursor of this range is accepted. */
function cursorDay(cursor: string | undefined, from: string, to: string): string | undefined {
  if (!cursor) return undefined;
  const day = decodeCursor(cursor)?.day;
  if (!day || !/^\d{4}-\d{2}-\d{2}$/.test(day) || day < from || day > to) throw foreignCursor();
  return day;
}

/**
 * Agency dashboard: total, per sub-account (named), the agency's own use, and a daily series,
 * for whole days from `from`. It reads a bounded number of counters: past the budget the
 * answer covers the days read (`to` is the last of them) and `nextCursor` carries on from the
 * next day, with the same from/to; each page's totals are those of its own days.
 */
export async function agencyUsage(agencyId: string, q: AgencyUsageQuery, budget = AGENCY_COUNTER_BUDGET) {
  const range = dayRange(q);
  const from = cursorDay(q.cursor, range.from, range.to) ?? range.from;
  const [{ days, nextDay }, subs] = await Promise.all([
    agencyCounters(agencyId, from, range.to, budget),
    // Bounded by the plan's sub-account cap.
    queryAllPages((cursor) => listSubAccounts(agencyId, { limit: 200, cursor })),
  ]);
  const to = nextDay ? utcDate(Date.parse(`${nextDay}T00:00:00Z`) - DAY_MS) : range.to;
  const names = new Map(subs.map((s) => [s.id, s.name]));
  const perAccount = new Map<string, number>();
  for (const d of days) perAccount.set(d.accountId, (perAccount.get(d.accountId) ?? 0) + d.total);
  const bySubAccount = [...perAccount]
    .filter(([id]) => id !== agencyId)
    .map(([subAccountId, credits]) => ({ subAccountId, name: names.get(subAccountId) ?? null, credits }))
    .sort((a, b) => b.credits - a.credits);
  return {
    from,
    to,
    total: days.reduce((n, d) => n + d.total, 0),
    agencyOwn: perAccount.get(agencyId) ?? 0,
    bySubAccount,
    series: dailySeries(days, from, to),
    nextCursor: nextDay ? encodeCursor({ day: nextDay }) : null,
  };
}

/** One account's own usage: totals, by type and daily (at most 366 counters, of this account only). Never a balance. */
export async function accountUsage(account: AccountItem, q: UsageQuery) {
  const { from, to } = dayRange(q);
  const days = await accountDays(account.id, from, to);
  const byType = Object.fromEntries(usageTypes.map((t) => [t, days.reduce((n, d) => n + (Number(d[t]) || 0), 0)]));
  return { from, to, total: days.reduce((n, d) => n + d.total, 0), byType, series: dailySeries(days, from, to) };
}
