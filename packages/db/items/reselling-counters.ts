import { table } from '../client';
import { itemShape } from '../item-shape';
import { queryAll } from '../query';
import { itemKinds, type Key, keyPrefixes } from '../schema';
import type { TransactItem } from '../transact';

/**
 * What the reselling dashboard reads, kept by the writes that move credits (never by scanning
 * the ledger): per reselling sub-account, lifetime totals of Stripe purchases (credits, and
 * spend per currency, net of refunds) and one item per UTC day (purchased and refunded credits).
 * A sub-account's days are listed on gsi1 under `RESELLING#<sub>`; its consumption per day is
 * the `wallet` of its usage rollup days (usage-rollup.ts), one query of its own partition.
 */
export interface ResellingTotalsItem {
  kind: typeof itemKinds.resellingTotals;
  agencyId: string;
  accountId: string;
  purchasedCredits?: number;
  refundedCredits?: number;
  purchases?: number;
  /** `spend_<currency>`: minor units paid, net of refunds. */
  [spend: `spend_${string}`]: number | undefined;
}

export interface ResellingDayItem {
  kind: typeof itemKinds.resellingDay;
  agencyId: string;
  accountId: string;
  date: string;
  purchased?: number;
  refunded?: number;
}

export const resellingTotalsKey = (subAccountId: string): Key => ({
  pk: `${keyPrefixes.reselling}${subAccountId}`,
  sk: 'TOTALS',
});
const dayKey = (subAccountId: string, date: string): Key => ({
  pk: `${keyPrefixes.reselling}${subAccountId}`,
  sk: `DAY#${date}`,
});

/** gsi1 partition and sort keys of a sub-account's daily purchase items (its wallet usage is on its usage rollup days). */
export const resellingSeriesPartition = (subAccountId: string) => `${keyPrefixes.reselling}${subAccountId}`;
export const resellingSeriesSort = (date: string) => `DAY#${date}#purchases`;

export interface CounterMove {
  agencyId: string;
  subAccountId: string;
  date: string;
  currency: string;
  /** Credits bought (purchase) or taken back (refund). */
  credits: number;
  /** Money in (purchase, positive) or back out (refund, negative). */
  amount: number;
  kind: 'purchase' | 'refund';
}

/** The lifetime totals and the day's counters, as two items of the transaction that moves the credits. */
export function countResellingMove(m: CounterMove): { totals: TransactItem; day: TransactItem } {
  const credits = m.kind === 'purchase' ? 'purchasedCredits' : 'refundedCredits';
  const totals: TransactItem = {
    Update: {
      TableName: table(),
      Key: resellingTotalsKey(m.subAccountId),
      UpdateExpression: `ADD #credits :credits, #spend :amount${m.kind === 'purchase' ? ', purchases :one' : ''} SET #kind = :kind, agencyId = :agencyId, accountId = :accountId`,
      ExpressionAttributeNames: { '#credits': credits, '#spend': `spend_${m.currency}`, '#kind': 'kind' },
      ExpressionAttributeValues: {
        ':credits': m.credits,
        ':amount': m.amount,
        ':kind': itemKinds.resellingTotals,
        ':agencyId': m.agencyId,
        ':accountId': m.subAccountId,
        ...(m.kind === 'purchase' ? { ':one': 1 } : {}),
      },
    },
  };
  const day: TransactItem = {
    Update: {
      TableName: table(),
      Key: dayKey(m.subAccountId, m.date),
      UpdateExpression:
        'ADD #credits :credits SET #kind = :kind, agencyId = :agencyId, accountId = :accountId, #date = :date, gsi1pk = :gpk, gsi1sk = :gsk',
      ExpressionAttributeNames: {
        '#credits': m.kind === 'purchase' ? 'purchased' : 'refunded',
        '#kind': 'kind',
        '#date': 'date',
      },
      ExpressionAttributeValues: {
        ':credits': m.credits,
        ':kind': itemKinds.resellingDay,
        ':agencyId': m.agencyId,
        ':accountId': m.subAccountId,
        ':date': m.date,
        ':gpk': resellingSeriesPartition(m.subAccountId),
        ':gsk': resellingSeriesSort(m.date),
      },
    },
  };
  return { totals, day };
}

/** A day's purchase counters, as the dashboard reads them (its counters are named by the seller's data). */
const resellingDayShape = itemShape<Record<string, unknown> & { kind: string; date: string }>(itemKinds.resellingDay, {
  date: 'string',
});

/** A sub-account's daily purchase items from..to (inclusive): at most one a day, so a bounded read. */
export function resellingSeries(subAccountId: string, from: string, to: string) {
  return queryAll(
    {
      index: true,
      partition: resellingSeriesPartition(subAccountId),
      sort: { between: [`DAY#${from}`, `DAY#${to}~`] },
    },
    resellingDayShape,
  );
}
