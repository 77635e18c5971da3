import { table } from '../client';
import { queryAll, queryPage } from '../query';
import { itemKinds, type Key } from '../schema';
import type { TransactItem } from '../transact';

/**
 * Usage counters per account per UTC day: `total` and one attribute per usage type. The
 * dashboards read them: the agency's in its own partition (`USAGE#<agency>`, by date then
 * account), one account's on gsi1 (`ACCOUNT#<id>#USAGE`, by date), so an account's usage is a
 * query of that account alone, never a read of its agency's counters filtered.
 */
export interface UsageDayItem {
  kind: typeof itemKinds.usageDay;
  agencyId: string;
  accountId: string;
  date: string;
  total: number;
  [usageType: string]: unknown;
}

const agencyPartition = (agencyId: string) => `USAGE#${agencyId}`;
const accountPartition = (accountId: string) => `ACCOUNT#${accountId}#USAGE`;

export const usageDayKey = (agencyId: string, date: string, accountId: string): Key => ({
  pk: agencyPartition(agencyId),
  sk: `${date}#${accountId}`,
});

/**
 * Adds a debit to the day's counter (created on first use, with its index entry under its
 * account). A debit from a reselling wallet also adds to `wallet`, which the reselling
 * dashboard reads as the day's consumption.
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
      UpdateExpression: `ADD #total :q, #type :q${fromWallet ? ', #wallet :q' : ''} SET #kind = :kind, #agencyId = :agencyId, #accountId = :accountId, #date = :date, gsi1pk = :gsi1pk, gsi1sk = :date`,
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
        ':gsi1pk': accountPartition(accountId),
      },
    },
  };
}

/** One account's counters for the days from..to (inclusive): at most one item a day. */
export function accountUsageDays(accountId: string, from: string, to: string): Promise<UsageDayItem[]> {
  return queryAll<UsageDayItem>({ index: true, partition: accountPartition(accountId), sort: { between: [from, to] } });
}

/** A page of the agency's counters for the days from..to, by date then account, resumable by cursor. */
export function agencyUsagePage(agencyId: string, from: string, to: string, page: { limit: number; cursor?: string }) {
  return queryPage<UsageDayItem>({ partition: agencyPartition(agencyId), sort: { between: [from, `${to}~`] }, ...page });
}
