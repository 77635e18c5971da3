import { utcDate } from '../../core/clock';
import { invalidField } from '../../core/errors';
import { type AccountItem, listSubAccounts } from '../../db/items/account';
import { type UsageDayItem, usageDays } from '../../db/items/usage-day';
import { queryAllPages } from '../../db/query';
import { type UsageQuery, usageTypes } from './schemas';
import { DAY_MS, daysBetween, timeRange } from './time-range';

/** The usage dashboards, read from the per-account-per-day counters the debits keep. */
const MAX_RANGE_DAYS = 366;

async function countersFor(agencyId: string, q: UsageQuery, accountId?: string) {
  const { start, end } = timeRange(q.from, q.to, 29);
  if (end - start > MAX_RANGE_DAYS * DAY_MS) throw invalidField('from', `the range may span at most ${MAX_RANGE_DAYS} days`);
  const from = utcDate(start);
  const to = utcDate(end);
  return { days: await usageDays(agencyId, from, to, accountId), from, to };
}

function dailySeries(days: UsageDayItem[], from: string, to: string) {
  const byDate = new Map<string, number>();
  for (const d of days) byDate.set(d.date, (byDate.get(d.date) ?? 0) + d.total);
  return daysBetween(from, to).map((date) => ({ date, credits: byDate.get(date) ?? 0 }));
}

/** Agency dashboard: total, per sub-account (named), the agency's own use, and a daily series. */
export async function agencyUsage(agencyId: string, q: UsageQuery) {
  const [{ days, from, to }, subs] = await Promise.all([
    countersFor(agencyId, q),
    queryAllPages((cursor) => listSubAccounts(agencyId, { limit: 200, cursor })),
  ]);
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
  };
}

/** One account's own usage: totals, by type and daily. Never a balance. */
export async function accountUsage(account: AccountItem, q: UsageQuery) {
  const { days, from, to } = await countersFor(account.agencyId, q, account.id);
  const byType = Object.fromEntries(usageTypes.map((t) => [t, days.reduce((n, d) => n + (Number(d[t]) || 0), 0)]));
  return { from, to, total: days.reduce((n, d) => n + d.total, 0), byType, series: dailySeries(days, from, to) };
}
