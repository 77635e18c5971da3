import { table } from '../client';
import { queryAll } from '../query';
import { itemKinds, type Key } from '../schema';
import type { TransactItem } from '../transact';

/** Usage counters per account per UTC day: `total` and one attribute per usage type. The dashboards read them. */
export interface UsageDayItem {
  kind: typeof itemKinds.usageDay;
  agencyId: string;
  accountId: string;
  date: string;
  total: number;
  [usageType: string]: unknown;
}

export const usageDayKey = (agencyId: string, date: string, accountId: string): Key => ({
  pk: `USAGE#${agencyId}`,
  sk: `${date}#${accountId}`,
});

/** Adds a debit to the day's counter (created on first use). */
export function addUsage(agencyId: string, accountId: string, date: string, type: string, credits: number): TransactItem {
  return {
    Update: {
      TableName: table(),
      Key: usageDayKey(agencyId, date, accountId),
      UpdateExpression:
        'ADD #total :q, #type :q SET #kind = :kind, #agencyId = :agencyId, #accountId = :accountId, #date = :date',
      ExpressionAttributeNames: {
        '#total': 'total',
        '#type': type,
        '#date': 'date',
        '#kind': 'kind',
        '#agencyId': 'agencyId',
        '#accountId': 'accountId',
      },
      ExpressionAttributeValues: {
        ':q': credits,
        ':kind': itemKinds.usageDay,
        ':agencyId': agencyId,
        ':accountId': accountId,
        ':date': date,
      },
    },
  };
}

/** The agency's counters for the days from..to (inclusive), optionally of one account only. */
export function usageDays(agencyId: string, from: string, to: string, accountId?: string): Promise<UsageDayItem[]> {
  return queryAll<UsageDayItem>({
    partition: `USAGE#${agencyId}`,
    sort: { between: [from, `${to}~`] },
    filter: accountId
      ? { expression: '#accountId = :accountId', names: { '#accountId': 'accountId' }, values: { ':accountId': accountId } }
      : undefined,
  });
}
