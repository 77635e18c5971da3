import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { db, table } from '../client';
import { conditionFailed } from '../conditions';
import { anyOf, itemShape, parseFound } from '../item-shape';
import { queryAll } from '../query';
import { getItems, itemId } from '../read';
import { itemKinds, type Key, keyPrefixes, stored } from '../schema';

/**
 * Usage rollups: what the dashboards read, built from the table stream by the usage-rollups
 * function (packages/domain/ledger/rollups.ts), never written by a debit. Three kinds:
 *  - per account per UTC day: `total`, one attribute per usage type, and `wallet` (the part
 *    drawn from a reselling wallet: the reselling dashboard's consumption), in the account's
 *    own partition;
 *  - per agency per UTC day: `total`, one attribute per usage type, and `wallet` (the pool's
 *    own use, its runway, is `total` less `wallet`), in the agency's own partition;
 *  - per agency per UTC day and per month, its accounts' totals in `TOTALS_PARTS` parts by
 *    account (`a_<account>`; a month's part also `w_<account>`, the part drawn from a wallet):
 *    the dashboard's ranking, and each account's month (`creditsUsedThisMonth`, and the pool
 *    use a monthly limit counts: `a_` less `w_`).
 * An account's range is one query of its partition, an agency's days one query of its own,
 * and each item is written once per stream batch that holds its usage, never once per debit:
 * an active account costs a batch one write (its day), the parts at most 2 × `TOTALS_PARTS`.
 *
 * Exactly once under redelivery: each item keeps, per stream shard, the highest sequence
 * number applied (`applied`), and is written read-modify-write on its `version`.
 */
interface RollupBase {
  agencyId: string;
  total: number;
  /** Bumped by every write: the condition of the next one. */
  version: number;
  /** Stream shard id → the highest sequence number of it applied here, and when (epoch ms) that was set. */
  applied: Record<string, Watermark>;
  /** One attribute per usage type (`ai_response`, `campaign_message`), and `wallet` / `pool` where they apply. */
  [counter: string]: unknown;
}

export interface Watermark {
  /** A decimal string: compare with BigInt. */
  seq: string;
  at: number;
}

export interface AccountDayRollup extends RollupBase {
  kind: typeof itemKinds.accountUsageDay;
  accountId: string;
  date: string;
}
export interface AgencyDayRollup extends RollupBase {
  kind: typeof itemKinds.agencyUsageDay;
  date: string;
}
/**
 * Part of an agency's per-account totals for a day (`period` YYYY-MM-DD) or a month (YYYY-MM):
 * `a_<accountId>` → credits; in a month's part also `w_<accountId>` → the credits of those drawn
 * from the account's wallet (absent: none).
 */
export interface AccountTotalsRollup extends RollupBase {
  kind: typeof itemKinds.accountTotals;
  part: number;
  period: string;
}
export type UsageRollup = AccountDayRollup | AgencyDayRollup | AccountTotalsRollup;

const rollupFields = { agencyId: 'string', total: 'number', version: 'number', applied: 'object' } as const;
const accountDayShape = itemShape<AccountDayRollup>(itemKinds.accountUsageDay, {
  ...rollupFields,
  accountId: 'string',
  date: 'string',
});
const agencyDayShape = itemShape<AgencyDayRollup>(itemKinds.agencyUsageDay, { ...rollupFields, date: 'string' });
const accountTotalsShape = itemShape<AccountTotalsRollup>(itemKinds.accountTotals, {
  ...rollupFields,
  part: 'number',
  period: 'string',
});
const rollupShape = anyOf(accountDayShape, agencyDayShape, accountTotalsShape);

/** How many items an agency's per-account totals of one day (or month) are spread over. */
export const TOTALS_PARTS = 8;
/** The attribute holding an account's credits in an `AccountTotalsRollup`. */
export const totalsAttribute = (accountId: string) => `a_${accountId}`;
/** The attribute holding the part of them drawn from the account's wallet, in a month's part. */
export const walletTotalsAttribute = (accountId: string) => `w_${accountId}`;
/** The part an account's totals live in: a stable hash of its id. */
export function totalsPart(accountId: string): number {
  let h = 0;
  for (let i = 0; i < accountId.length; i++) h = (h * 31 + accountId.charCodeAt(i)) >>> 0;
  return h % TOTALS_PARTS;
}

const accountPartition = (accountId: string) => `${keyPrefixes.rollup}${keyPrefixes.account}${accountId}`;
const agencyPartition = (agencyId: string) => `${keyPrefixes.rollup}AGENCY#${agencyId}`;
const totalsPartition = (agencyId: string, part: number) => `${keyPrefixes.rollup}AGENCY#${agencyId}#TOTALS#${part}`;

export const accountDayKey = (accountId: string, date: string): Key => ({ pk: accountPartition(accountId), sk: `DAY#${date}` });
export const agencyDayKey = (agencyId: string, date: string): Key => ({ pk: agencyPartition(agencyId), sk: `DAY#${date}` });
/** A part of the agency's per-account totals of a day (`DAY#YYYY-MM-DD`) or month (`MONTH#YYYY-MM`). */
export const accountTotalsKey = (agencyId: string, part: number, period: string): Key => ({
  pk: totalsPartition(agencyId, part),
  sk: `${period.length === 7 ? 'MONTH' : 'DAY'}#${period}`,
});

/** The key of a rollup item. */
export function rollupKeys(item: UsageRollup): Key {
  switch (item.kind) {
    case itemKinds.accountUsageDay:
      return accountDayKey(item.accountId, item.date);
    case itemKinds.accountTotals:
      return accountTotalsKey(item.agencyId, item.part, item.period);
    case itemKinds.agencyUsageDay:
      return agencyDayKey(item.agencyId, item.date);
  }
}

/** Several rollup items as they are now, by `itemId` (strongly consistent, BatchGet in chunks of 100). */
export async function getRollups(keys: Key[]): Promise<Map<string, UsageRollup>> {
  const found = new Map<string, UsageRollup>();
  for (let i = 0; i < keys.length; i += 100) {
    for (const [id, item] of await getItems(keys.slice(i, i + 100))) found.set(id, rollupShape.parse(item));
  }
  return found;
}

/**
 * Writes the next version of a rollup item, on condition that the item is still at the version
 * it was read at (absent: `expected` undefined). On a lost race, the item as it is now (or
 * undefined if it is absent) for the caller to redo its change on.
 */
export async function putRollup(
  item: UsageRollup,
  expected: number | undefined,
): Promise<{ written: true } | { written: false; current: UsageRollup | undefined }> {
  try {
    await db.send(
      new PutCommand({
        TableName: table(),
        Item: stored(item, rollupKeys(item)),
        ConditionExpression: expected === undefined ? 'attribute_not_exists(pk)' : 'version = :expected',
        ExpressionAttributeValues: expected === undefined ? undefined : { ':expected': expected },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { written: true };
  } catch (err) {
    if (!conditionFailed(err)) throw err;
    const raw = (err as { Item?: Parameters<typeof unmarshall>[0] }).Item;
    // The old item comes back with the failure; re-read only if it did not.
    const current = parseFound(
      rollupShape,
      raw
        ? unmarshall(raw)
        : (await db.send(new GetCommand({ TableName: table(), Key: rollupKeys(item), ConsistentRead: true }))).Item,
    );
    return { written: false, current };
  }
}

/** One account's days from..to (inclusive): at most one item a day, in its own partition. */
export const accountDays = (accountId: string, from: string, to: string) =>
  queryAll({ partition: accountPartition(accountId), sort: { between: [`DAY#${from}`, `DAY#${to}`] } }, accountDayShape);

/** An agency's own days from..to (inclusive): one item a day. */
export const agencyDays = (agencyId: string, from: string, to: string) =>
  queryAll({ partition: agencyPartition(agencyId), sort: { between: [`DAY#${from}`, `DAY#${to}`] } }, agencyDayShape);

/**
 * Credits per account over whole months `months` (from..to, YYYY-MM, inclusive) and the days
 * in `days` (ranges of YYYY-MM-DD, inclusive), summed: every part's items of those periods,
 * read all at once.
 */
export async function accountTotals(
  agencyId: string,
  periods: { months?: [string, string]; days: Array<[string, string]> },
): Promise<Map<string, number>> {
  const ranges: Array<[string, string]> = [
    ...(periods.months ? [[`MONTH#${periods.months[0]}`, `MONTH#${periods.months[1]}`] as [string, string]] : []),
    ...periods.days.map(([from, to]) => [`DAY#${from}`, `DAY#${to}`] as [string, string]),
  ];
  const reads = Array.from({ length: TOTALS_PARTS }, (_, part) =>
    ranges.map((between) => queryAll({ partition: totalsPartition(agencyId, part), sort: { between } }, accountTotalsShape)),
  ).flat();
  const sums = new Map<string, number>();
  for (const items of await Promise.all(reads)) {
    for (const item of items) {
      for (const [name, value] of Object.entries(item)) {
        if (name.startsWith('a_')) sums.set(name.slice(2), (sums.get(name.slice(2)) ?? 0) + Number(value));
      }
    }
  }
  return sums;
}

/** Each account's month as its agency's month parts hold it (absent: none used). */
async function monthOfAccounts(agencyId: string, accountIds: string[], month: string) {
  const keys = [...new Set(accountIds.map(totalsPart))].map((part) => accountTotalsKey(agencyId, part, month));
  const found = await getRollups(keys);
  return (accountId: string) => {
    const part = found.get(itemId(accountTotalsKey(agencyId, totalsPart(accountId), month))) as
      | Record<string, unknown>
      | undefined;
    const used = Number(part?.[totalsAttribute(accountId)] ?? 0);
    return { used, fromWallet: Math.min(used, Number(part?.[walletTotalsAttribute(accountId)] ?? 0)) };
  };
}

/** Credits each of an agency's accounts used in `month`: at most `TOTALS_PARTS` items read, however many accounts. */
export async function monthTotals(agencyId: string, accountIds: string[], month: string): Promise<Map<string, number>> {
  const monthOf = await monthOfAccounts(agencyId, accountIds, month);
  return new Map(accountIds.map((id) => [id, monthOf(id).used]));
}

/**
 * The pool credits an account used in `month` as rolled up so far (what a monthly limit
 * counts): its month less what its wallet paid for. (Wallet use was first kept here in the
 * month a deploy moved it from a per-account month item: that month, wallet use before the
 * deploy counts as pool use, which leaves a first limit set then less room, never more.)
 */
export async function monthPoolUsed(agencyId: string, accountId: string, month: string): Promise<number> {
  const { used, fromWallet } = (await monthOfAccounts(agencyId, [accountId], month))(accountId);
  return used - fromWallet;
}
