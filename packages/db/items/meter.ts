import { PutCommand, type PutCommandInput } from '@aws-sdk/lib-dynamodb';
import { db, table } from '../client';
import { conditionFailed } from '../conditions';
import { itemShape } from '../item-shape';
import { getItem } from '../read';
import { itemKinds, type Key, stored } from '../schema';
import type { NamedItem, TransactItem } from '../transact';
import { type AccountItem, accountIsActive, accountKey, accountPartition, getAccount, type SubAccountItem } from './account';

/**
 * A limited sub-account's monthly meter, an item of its own beside the account item
 * (`ACCOUNT#<sub>` / `METER`), on no index. Every debit of a limited sub-account that is not in a
 * lane of its own charges it; on the account item (listed on gsi1 under its agency) each charge
 * was also an index write under one key for the whole agency (docs/performance.md).
 *
 * `meterPoolUsed` is what the limit has given out this month (to debits and to lanes; a closed
 * lane gives its unused part back); `meterRemaining = monthlyCreditLimit − meterPoolUsed`, the
 * limit copied here from the account by the same transaction that sets it. How much was used for
 * real (creditsUsedThisMonth) is the usage rollups', not the meter's. What may be charged at all
 * (active, manual, limited) is the account's to say: a charge checks the account item in the same
 * transaction, without writing it.
 */
export interface MeterItem {
  kind: typeof itemKinds.accountMeter;
  accountId: string;
  agencyId: string;
  /** The account's limit, written with it; absent while it has none. */
  monthlyCreditLimit?: number;
  meterMonth?: string;
  meterPoolUsed?: number;
  meterRemaining?: number;
  /** Epoch ms: until then no lane sets this account's allowance aside (its month is nearly spent). */
  lanesOffUntil?: number;
  updatedAt: string;
}
export const meterShape = itemShape<MeterItem>(
  itemKinds.accountMeter,
  { accountId: 'string', agencyId: 'string' },
  {
    monthlyCreditLimit: 'number',
    meterMonth: 'string',
    meterPoolUsed: 'number',
    meterRemaining: 'number',
    lanesOffUntil: 'number',
  },
);

export const meterKey = (accountId: string): Key => ({ pk: accountPartition(accountId), sk: 'METER' });
export const getMeter = (accountId: string) => getItem(meterKey(accountId), meterShape);

/** Whether an account keeps a meter: a sub-account with a monthly limit. */
export const keepsMeter = (account: AccountItem): account is SubAccountItem & { monthlyCreditLimit: number } =>
  account.type === 'sub_account' && typeof account.monthlyCreditLimit === 'number';

/** What the limit has left in `month`: the meter's room on its month, the whole limit once the month turned. */
export const monthRoom = (meter: Partial<MeterItem>, month: string): number =>
  meter.meterMonth === month ? (meter.meterRemaining ?? 0) : (meter.monthlyCreditLimit ?? 0);

/** The meter fields an account item carried before the meter had an item of its own. */
type LegacyMeter = Partial<Pick<MeterItem, 'meterMonth' | 'meterPoolUsed' | 'meterRemaining' | 'lanesOffUntil'>>;

/**
 * The meter of a limited sub-account whose limit was set before meters had items of their own,
 * copied from its account item (read, then written if still missing: another container may have
 * copied it first). Its limit's lanes give their allowance back to the copy.
 */
export async function meterCopiedFrom(account: AccountItem): Promise<MeterItem | undefined> {
  try {
    await db.send(new PutCommand(meterFromAccount(account, new Date().toISOString())));
  } catch (e) {
    if (!conditionFailed(e)) throw e;
  }
  return getMeter(account.id);
}

/**
 * An account as it is now and, for a sub-account with a limit, its meter (copied from the account
 * item if the limit was set before meters had items of their own). The meter is read after the
 * account, and only for an account that keeps one: most accounts have none to read.
 */
export async function getAccountWithMeter(
  accountId: string,
): Promise<{ account: AccountItem; meter: MeterItem | undefined } | undefined> {
  const account = await getAccount(accountId);
  if (!account) return undefined;
  if (!keepsMeter(account)) return { account, meter: undefined };
  return { account, meter: (await getMeter(accountId)) ?? (await meterCopiedFrom(account)) };
}

function meterFromAccount(account: AccountItem & LegacyMeter, at: string): PutCommandInput {
  const item: MeterItem = {
    kind: itemKinds.accountMeter,
    accountId: account.id,
    agencyId: account.agencyId,
    ...(keepsMeter(account) ? { monthlyCreditLimit: account.monthlyCreditLimit } : {}),
    ...(account.meterMonth !== undefined ? { meterMonth: account.meterMonth } : {}),
    ...(account.meterPoolUsed !== undefined ? { meterPoolUsed: account.meterPoolUsed } : {}),
    ...(account.meterRemaining !== undefined ? { meterRemaining: account.meterRemaining } : {}),
    ...(account.lanesOffUntil !== undefined ? { lanesOffUntil: account.lanesOffUntil } : {}),
    updatedAt: at,
  };
  return { TableName: table(), Item: stored(item, meterKey(account.id)), ConditionExpression: 'attribute_not_exists(pk)' };
}

/**
 * The meter's side of a limit change, in the account update's transaction: a number sets the
 * limit (and its remaining room: from `from`, the month's pool use so far, when there was no
 * limit; else from the meter as it is at this write); null removes it (what was given out stays,
 * for a limit set again this month).
 */
export function meterLimitWrite(
  account: { id: string; agencyId: string },
  limit: number | null,
  at: string,
  from?: { month: string; poolUsed: number },
): TransactItem {
  const ids = '#kind = :kind, accountId = :accountId, agencyId = :agencyId, updatedAt = :at';
  const values: Record<string, unknown> = {
    ':kind': itemKinds.accountMeter,
    ':accountId': account.id,
    ':agencyId': account.agencyId,
    ':at': at,
  };
  let expression: string;
  if (limit === null) expression = `SET ${ids} REMOVE monthlyCreditLimit, meterRemaining`;
  else if (from) {
    expression = `SET ${ids}, monthlyCreditLimit = :limit, meterMonth = :month, meterPoolUsed = :used, meterRemaining = :remaining`;
    Object.assign(values, { ':limit': limit, ':month': from.month, ':used': from.poolUsed, ':remaining': limit - from.poolUsed });
  } else {
    // remaining = limit − pool credits given out, computed by DynamoDB from the meter as it is at this write.
    expression = `SET ${ids}, monthlyCreditLimit = :limit, meterRemaining = :limit - if_not_exists(meterPoolUsed, :zero)`;
    Object.assign(values, { ':limit': limit, ':zero': 0 });
  }
  return {
    Update: {
      TableName: table(),
      Key: meterKey(account.id),
      UpdateExpression: expression,
      ExpressionAttributeNames: { '#kind': 'kind' },
      ExpressionAttributeValues: values,
    },
  };
}

export interface MeterCharge {
  accountId: string;
  /** The month the meter was last seen on (undefined: never used). */
  seenMonth: string | undefined;
  month: string;
  /** Pool credits counted against the limit: a debit's own, or the allowance a lane sets aside. */
  credits: number;
  /** For a lane (set aside, not spent): refused while the month's allowance was lately collected (`lanesOffUntil`). */
  forLane?: { nowMs: number };
}

/**
 * A limited sub-account's monthly allowance, taken: by a debit of the pool itself, or set aside
 * in a lane (lanes.ts). Two items of one transaction: `standing`, the account checked (active, in
 * manual mode, with a limit) and not written, and `meter`, on the month it was seen on (else
 * rolled over to this one) with room for `credits`.
 */
export function chargeMeter(c: MeterCharge): [NamedItem<'standing'>, NamedItem<'meter'>] {
  const rollover = c.seenMonth !== c.month;
  const conditions: string[] = ['attribute_exists(monthlyCreditLimit)'];
  const values: Record<string, unknown> = { ':q': c.credits, ':month': c.month };
  if (c.forLane) {
    conditions.push('(attribute_not_exists(lanesOffUntil) OR lanesOffUntil < :nowMs)');
    values[':nowMs'] = c.forLane.nowMs;
  }
  if (!rollover) {
    conditions.push('meterMonth = :month', 'meterRemaining >= :q');
    values[':negativeQ'] = -c.credits;
  } else {
    conditions.push(c.seenMonth ? 'meterMonth = :prev' : 'attribute_not_exists(meterMonth)', 'monthlyCreditLimit >= :q');
    if (c.seenMonth) values[':prev'] = c.seenMonth;
  }
  return [
    {
      name: 'standing',
      write: {
        ConditionCheck: {
          TableName: table(),
          Key: accountKey(c.accountId),
          ConditionExpression: `${accountIsActive.expression} AND creditMode = :manual AND attribute_exists(monthlyCreditLimit)`,
          ExpressionAttributeNames: accountIsActive.names,
          ExpressionAttributeValues: { ...accountIsActive.values, ':manual': 'manual' },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
    },
    {
      name: 'meter',
      write: {
        Update: {
          TableName: table(),
          Key: meterKey(c.accountId),
          UpdateExpression: rollover
            ? 'SET meterMonth = :month, meterPoolUsed = :q, meterRemaining = monthlyCreditLimit - :q'
            : 'ADD meterPoolUsed :q, meterRemaining :negativeQ',
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeValues: values,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
    },
  ];
}

/**
 * A closed lane's unused allowance back to its month's meter (refused once the month turned: it
 * is void). Given back whether or not the limit is still set: a limit removed meanwhile keeps
 * `meterPoolUsed`, from which a limit set again this month starts, so what was never used must
 * leave it. `lanesOffUntil` (epoch ms): the month is nearly spent, so until then this account's
 * debits take their allowance one by one (no lane may set any aside), as a collected balance does.
 */
export function returnAllowance(
  accountId: string,
  month: string,
  allowance: number,
  at: string,
  lanesOffUntil?: number,
): TransactItem {
  return {
    Update: {
      TableName: table(),
      Key: meterKey(accountId),
      UpdateExpression: `ADD meterPoolUsed :negative, meterRemaining :a SET updatedAt = :now${lanesOffUntil ? ', lanesOffUntil = :off' : ''}`,
      ConditionExpression: 'meterMonth = :month',
      ExpressionAttributeValues: {
        ':negative': -allowance,
        ':a': allowance,
        ':month': month,
        ':now': at,
        ...(lanesOffUntil ? { ':off': lanesOffUntil } : {}),
      },
    },
  };
}
