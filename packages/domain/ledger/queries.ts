import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { AppError, invalidField, notFound } from '../../core/errors';
import { db, table } from '../../db/client';
import { getItem, queryIndexAll, type AccountItem } from '../../db/accounts';
import { decodeCursor, encodeCursor, foreignCursor, rejectForeignCursor } from '../../db/cursor';
import { keys, tableDefinition } from '../../db/schema';
import type { BalanceState } from './balance-state';
import { entryView, type LedgerEntryItem } from './entries';
import type { TransactionsQuery, UsageQuery } from './schemas';
import { usageTypes } from './schemas';

interface BalanceItem extends BalanceState {
  purchased?: number;
  consumed?: number;
}

export async function poolBalance(agencyId: string) {
  const pool = await getItem<BalanceItem>(keys.pool(agencyId));
  return { balance: pool?.balance ?? 0, currency: 'credits' as const };
}

/** A reselling sub-account's wallet; in manual mode there is no wallet to show (404). */
export async function walletView(account: AccountItem) {
  if (account.type !== 'sub_account' || (account.creditMode ?? 'manual') !== 'reselling') throw notFound('Wallet');
  const wallet = await getItem<BalanceItem>(keys.wallet(account.id));
  return { balance: wallet?.balance ?? 0, purchased: wallet?.purchased ?? 0, consumed: wallet?.consumed ?? 0, currency: 'credits' as const };
}

/** The month's usage on a sub-account list item, from its meter. */
export function creditsUsedThisMonth(account: AccountItem, now = new Date()): number {
  return account.meterMonth === now.toISOString().slice(0, 7) ? (account.meterUsed ?? 0) : 0;
}

// Entry ids are time ordered (10 chars of ms time after `txn_`), so a time range is an id range.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
function idBound(ms: number, end: boolean): string {
  let t = '';
  for (let i = 0, n = Math.max(0, ms); i < 10; i++, n = Math.floor(n / 32)) t = ALPHABET[n % 32] + t;
  return `txn_${t}${end ? 'z'.repeat(16) : ''}`;
}

/** `from` inclusive, `to` inclusive; a bare date covers its whole UTC day. */
export function timeRange(from: string | undefined, to: string | undefined, defaultDays?: number) {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/;
  const end = to ? Date.parse(dateOnly.test(to) ? `${to}T23:59:59.999Z` : to) : Math.max(Date.now(), from ? Date.parse(from) : 0);
  const start = from ? Date.parse(from) : defaultDays ? end - defaultDays * 86400_000 : 0;
  if (start > end) throw invalidField('from', 'must not be after to');
  return { start, end };
}

const MAX_PAGES_PER_CALL = 10;

/**
 * The agency's transaction history, newest first. Time bounds are key conditions; the other
 * filters are applied by DynamoDB as it reads, so a page may need several reads: it stops at
 * `limit` rows or after a bounded number of reads, and the cursor resumes exactly there.
 */
export async function listTransactions(agencyId: string, q: TransactionsQuery) {
  const { start, end } = timeRange(q.from, q.to);
  const ix = tableDefinition.indexes[0];
  const filters: string[] = [];
  const names: Record<string, string> = { '#pk': ix.partitionKey, '#sk': ix.sortKey };
  const values: Record<string, unknown> = { ':pk': keys.ledgerOf(agencyId).gsi1pk, ':from': idBound(start, false), ':to': idBound(end, true) };
  for (const field of ['subAccountId', 'campaignId', 'contactId', 'type'] as const) {
    const value = q[field];
    if (value === undefined) continue;
    names[`#${field}`] = field;
    values[`:${field}`] = value;
    filters.push(`#${field} = :${field}`);
  }
  const items: LedgerEntryItem[] = [];
  let startKey = decodeCursor(q.cursor);
  if (startKey && startKey[ix.partitionKey] !== values[':pk']) throw foreignCursor();
  for (let page = 0; page < MAX_PAGES_PER_CALL && items.length < q.limit; page++) {
    const out = await db
      .send(
        new QueryCommand({
          TableName: table(),
          IndexName: ix.name,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
          FilterExpression: filters.length ? filters.join(' AND ') : undefined,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          Limit: q.limit - items.length,
          ExclusiveStartKey: startKey,
        }),
      )
      .catch(rejectForeignCursor(q.cursor));
    items.push(...((out.Items ?? []) as LedgerEntryItem[]));
    startKey = out.LastEvaluatedKey as Record<string, string> | undefined;
    if (!startKey) break;
  }
  return { items: items.map(entryView), nextCursor: encodeCursor(startKey) };
}

const EXPORT_MAX_ROWS = 10_000;

/**
 * The CSV export: every matching entry, newest first, from the cursor on, up to 10,000 rows
 * per download (`x-next-cursor` carries on from there).
 */
export async function exportTransactions(agencyId: string, q: TransactionsQuery) {
  const rows: ReturnType<typeof entryView>[] = [];
  let cursor = q.cursor;
  do {
    const page = await listTransactions(agencyId, { ...q, cursor, limit: 200 });
    rows.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && rows.length < EXPORT_MAX_ROWS);
  return { rows, nextCursor: cursor ?? null };
}

const csvColumns = ['id', 'createdAt', 'type', 'credits', 'balanceAfter', 'balanceType', 'accountId', 'subAccountId', 'contactId', 'campaignId', 'conversationId', 'reference', 'actor'] as const;

export function toCsv(rows: ReturnType<typeof entryView>[]): string {
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    // Quote always; neutralise spreadsheet formulas in free-text fields.
    const safe = /^[=+\-@\t\r]/.test(s) && typeof v === 'string' ? `'${s}` : s;
    return `"${safe.replace(/"/g, '""')}"`;
  };
  return [csvColumns.join(','), ...rows.map((r) => csvColumns.map((c) => cell(r[c])).join(','))].join('\r\n') + '\r\n';
}

interface UsageDayItem {
  date: string;
  accountId: string;
  total: number;
  [type: string]: unknown;
}

async function usageDays(agencyId: string, q: UsageQuery, accountId?: string): Promise<{ days: UsageDayItem[]; from: string; to: string }> {
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
        ExpressionAttributeValues: { ':pk': keys.usageOf(agencyId).pk, ':from': from, ':to': `${to}~`, ...(accountId ? { ':accountId': accountId } : {}) },
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

export const csvNeedsFeature = () => new AppError('feature_not_enabled', 'CSV export needs the usage_export feature');
