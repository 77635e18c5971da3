import { table } from '../client';
import { queryAll } from '../query';
import { itemKinds, type Key } from '../schema';
import type { TransactItem } from '../transact';
import { resellingSeriesPartition, resellingSeriesSort } from './reselling-counters';

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

/**
 * Adds a debit to the day's counter (created on first use). A debit from a reselling wallet
 * also adds to `wallet` and lists the item in the sub-account's reselling series (gsi1), which
 * the reselling dashboard reads: no extra item in the debit's transaction, only the index copy.
 */
export function addUsage(
  agencyId: string,
  accountId: string,
  date: string,
  type: string,
  credits: number,
  fromWallet = false,
): TransactItem {
  return {
    Update: {
      TableName: table(),
      Key: usageDayKey(agencyId, date, accountId),
      UpdateExpression: `ADD #total :q, #type :q${fromWallet ? ', #wallet :q' : ''} SET #kind = :kind, #agencyId = :agencyId, #accountId = :accountId, #date = :date${fromWallet ? ', gsi1pk = :gpk, gsi1sk = :gsk' : ''}`,
      ExpressionAttributeNames: {
        '#total': 'total',
        '#type': type,
        '#date': 'date',
        '#kind': 'kind',
        '#agencyId': 'agencyId',
        '#accountId': 'accountId',
        ...(fromWallet ? { '#wallet': 'wallet' } : {}),
      },
      ExpressionAttributeValues: {
        ':q': credits,
        ':kind': itemKinds.usageDay,
        ':agencyId': agencyId,
        ':accountId': accountId,
        ':date': date,
        ...(fromWallet ? { ':gpk': resellingSeriesPartition(accountId), ':gsk': resellingSeriesSort(date, 'usage') } : {}),
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
