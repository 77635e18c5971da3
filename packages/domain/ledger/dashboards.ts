import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { invalidField } from '../../core/errors';
import { type AccountItem, queryIndexAll } from '../../db/accounts';
import { db, table } from '../../db/client';
import { keys } from '../../db/schema';
import { type UsageQuery, usageTypes } from './schemas';
import { timeRange } from './time-range';

/** The usage dashboards, read from the per-account-per-day counters the debits keep. */
interface UsageDayItem {
  date: string;
  accountId: string;
  total: number;
  [type: string]: unknown;
}

async function usageDays(
  agencyId: string,
  q: UsageQuery,
  accountId?: string,
): Promise<{ days: UsageDayItem[]; from: string; to: string }> {
  const { start, end } = timeRange(q.from, q.to, 29);
  if (end - start > 366 * 86400_000) throw invalidField('from', 'the range may span at most 366 days');
  const from = new Date(start).toISOString().slice(0, 10);
  const to = new Date(end).toISOString().slice(0, 10);
  const days: UsageDayItem[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await db.send(
      new QueryCommand({
        TableName: table(),
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        FilterExpression: accountId ? 'accountId = :accountId' : undefined,
        ExpressionAttributeValues: {
          ':pk': keys.usageOf(agencyId).pk,
          ':from': from,
          ':to': `${to}~`,
          ...(accountId ? { ':accountId': accountId } : {}),
        },
        ExclusiveStartKey: startKey,
      }),
    );
    days.push(...((out.Items ?? []) as UsageDayItem[]));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return { days, from, to };
}

function dailySeries(days: UsageDayItem[], from: string, to: string) {
  const byDate = new Map<string, number>();
  for (const d of days) byDate.set(d.date, (byDate.get(d.date) ?? 0) + d.total);
  const series: { date: string; credits: number }[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86400_000) {
    const date = new Date(t).toISOString().slice(0, 10);
    series.push({ date, credits: byDate.get(date) ?? 0 });
  }
  return series;
}

/** Agency dashboard: total, per sub-account (named), the agency's own use, and a daily series. */
export async function agencyUsage(agencyId: string, q: UsageQuery) {
  const [{ days, from, to }, subs] = await Promise.all([
    usageDays(agencyId, q),
    queryIndexAll<AccountItem>(keys.subAccountsOf(agencyId)),
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
  const { days, from, to } = await usageDays(account.agencyId, q, account.id);
  const byType = Object.fromEntries(usageTypes.map((t) => [t, days.reduce((n, d) => n + (Number(d[t]) || 0), 0)]));
  return { from, to, total: days.reduce((n, d) => n + d.total, 0), byType, series: dailySeries(days, from, to) };
}
