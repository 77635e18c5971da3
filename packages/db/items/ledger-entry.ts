import { createHash } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ErrorCode } from '#core/errors';
import { idPattern } from '#core/ids';
import { db, table } from '../client';
import { ifConditionHolds } from '../conditions';
import { decodeCursor, encodeCursor, foreignCursor } from '../cursor';
import { anyOf, itemShape } from '../item-shape';
import { MergedReader } from '../merged-query';
import { getItem } from '../read';
import { itemKinds, type Key, keyPrefixes, stored } from '../schema';
import type { TransactItem } from '../transact';
import { type Actor, type EntryType, entryTypes, usageTypes } from '../vocabulary';
import type { BalanceKind } from './balance';

/**
 * A ledger entry: one immutable record per credit movement, keyed by its idempotency key, so
 * the key's uniqueness is the entry's own write condition (the entry IS the idempotency
 * record). Listed newest first per agency on gsi1 by its time-ordered id. Corrections are new
 * entries.
 *
 * An agency's entries are spread over `LEDGER_SHARDS` partitions (`LEDGER#<agency>#<nn>`, the
 * same on gsi1), so no partition takes every debit of a busy agency: DynamoDB gives each
 * partition key at most 1,000 write units a second, and each entry costs its write and its
 * index copy. At 10,000 debits/s, 16 shards would each take ~1,250; 32 take ~625.
 *
 * An entry of a sub-account is also listed on gsi2 under that sub-account, in the same shard
 * (`LEDGER#<agency>#SUB#<sub>#<nn>`, by id), so one sub-account's history is a merge of its
 * own 32 lists, never a filter of the agency's: a busy sub-account's debits still spread 32
 * ways. It is one more index copy (1 write unit) on a sub-account's debit; the agency's own
 * entries (its usage, its top-ups) have none.
 *
 * An entry of any type but usage (a top-up, grant, purchase, refund, dispute) is also listed on
 * gsi3 under its agency and type (`LEDGER#<agency>#TYPE#<type>`, by id), so a history of one
 * such type reads that type's entries only, however many debits surround them. Debits have no
 * copy there (it would be one more write unit on every debit); these entries come at the rate
 * of payments and grants, far below a partition's 1,000 write units a second, so one list each.
 */
export interface LedgerEntryItem {
  kind: typeof itemKinds.ledgerEntry;
  id: string;
  agencyId: string;
  createdAt: string;
  type: EntryType;
  /** Signed: positive into a balance, negative out of it. */
  credits: number;
  /** The balance right after this entry; null while lanes held part of it (packages/domain/ledger/lanes.ts). */
  balanceAfter: number | null;
  /**
   * A top-up's or grant's answer names the balance it leaves. While lanes held part of it
   * (`balanceAfter` null) that figure was summed from the lanes when the entry was made, and
   * kept here so that every replay answers the same words. Not listed.
   */
  balanceAnswered?: number;
  balanceKind: BalanceKind;
  /** The account the credits were used by or granted to (the agency itself for its own usage and top-ups). */
  accountId: string;
  subAccountId: string | null;
  contactId?: string;
  campaignId?: string;
  conversationId?: string;
  reference?: string;
  requestId?: string;
  actor: Actor;
  idempotencyKey: string;
  /** Fingerprint of the request that wrote it: a retry must match, another body is a 409. */
  requestHash: string;
  /** Purchases and refunds: the money behind the credits, and Stripe's ids for it. */
  payment?: EntryPayment;
}
export const ledgerEntryShape = itemShape<LedgerEntryItem>(itemKinds.ledgerEntry, {
  id: 'string',
  agencyId: 'string',
  createdAt: 'string',
  type: entryTypes,
  credits: 'number',
});

export interface EntryPayment {
  purchaseId: string;
  /** Minor units: what was paid (purchase) or refunded by this step (refund). */
  amount: number;
  currency: string;
  stripeAccountId: string | null;
  checkoutSessionId: string | null;
  paymentIntentId: string | null;
  chargeId: string | null;
}

/**
 * A refusal that depended on the ledger's state (402, 409), remembered under the same key for
 * a day, as Stripe does: no credits moved, so it is not an entry and is not listed.
 */
export interface LedgerRefusalItem {
  kind: typeof itemKinds.ledgerRefusal;
  requestHash: string;
  code: ErrorCode;
  detail?: string;
  createdAt: string;
  ttl: number;
}
export const ledgerRefusalShape = itemShape<LedgerRefusalItem>(itemKinds.ledgerRefusal, {
  requestHash: 'string',
  code: 'string',
});

export type IdempotencyRecord = LedgerEntryItem | LedgerRefusalItem;

const REFUSAL_TTL_SECONDS = 24 * 3600;

/** Idempotency keys are scoped by operation and by the account acted on. */
export interface IdempotencyScope {
  agencyId: string;
  operation: string;
  accountId: string;
  idempotencyKey: string;
}

export const LEDGER_SHARDS = 32;

/** The shard of a scope: a stable hash of operation, account and key, so a retry finds its first outcome. */
export function ledgerShard(s: Omit<IdempotencyScope, 'agencyId'>): string {
  const hash = createHash('sha256').update(`${s.operation}\u0000${s.accountId}\u0000${s.idempotencyKey}`).digest();
  return String(hash.readUInt32BE(0) % LEDGER_SHARDS).padStart(2, '0');
}

const ledgerPartition = (agencyId: string, shard: string) => `${keyPrefixes.ledger}${agencyId}#${shard}`;

/** Every partition (and gsi1 partition) of an agency's ledger. */
export const ledgerPartitions = (agencyId: string): string[] =>
  Array.from({ length: LEDGER_SHARDS }, (_, i) => ledgerPartition(agencyId, String(i).padStart(2, '0')));

const subAccountLedger = (agencyId: string, subAccountId: string, shard: string) =>
  `${keyPrefixes.ledger}${agencyId}#SUB#${subAccountId}#${shard}`;

/** Every gsi2 partition of one sub-account's entries. */
export const subAccountLedgerPartitions = (agencyId: string, subAccountId: string): string[] =>
  Array.from({ length: LEDGER_SHARDS }, (_, i) => subAccountLedger(agencyId, subAccountId, String(i).padStart(2, '0')));

/** Whether entries of this type are listed by type (gsi3): every type but usage, the debits. */
export const listedByType = (type: EntryType): boolean => !(usageTypes as readonly string[]).includes(type);

const typeLedger = (agencyId: string, type: EntryType) => `${keyPrefixes.ledger}${agencyId}#TYPE#${type}`;

export const idempotencyKey = (s: IdempotencyScope): Key => ({
  pk: ledgerPartition(s.agencyId, ledgerShard(s)),
  sk: `IDEM#${s.operation}#${s.accountId}#${s.idempotencyKey}`,
});

export const getIdempotencyRecord = (s: IdempotencyScope) =>
  getItem(idempotencyKey(s), anyOf(ledgerEntryShape, ledgerRefusalShape));

/** The entry, on condition that its key was never used; a failed condition returns what is there. */
export function putEntry(scope: IdempotencyScope, entry: LedgerEntryItem): TransactItem {
  const key = idempotencyKey(scope);
  const shard = key.pk.slice(-2);
  const bySubAccount = entry.subAccountId
    ? { gsi2pk: subAccountLedger(entry.agencyId, entry.subAccountId, shard), gsi2sk: entry.id }
    : {};
  const byType = listedByType(entry.type) ? { gsi3pk: typeLedger(entry.agencyId, entry.type), gsi3sk: entry.id } : {};
  return {
    Put: {
      TableName: table(),
      Item: stored(entry, key, { gsi1pk: key.pk, gsi1sk: entry.id }, bySubAccount, byType),
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** Stores a refusal unless the key already has an outcome; returns false when it had one. */
export async function putRefusal(scope: IdempotencyScope, refusal: Omit<LedgerRefusalItem, 'kind' | 'ttl'>): Promise<boolean> {
  const item: LedgerRefusalItem = {
    kind: itemKinds.ledgerRefusal,
    ...refusal,
    ttl: Math.floor(Date.parse(refusal.createdAt) / 1000) + REFUSAL_TTL_SECONDS,
  };
  const written = await ifConditionHolds(
    db.send(
      new PutCommand({
        TableName: table(),
        Item: stored(item, idempotencyKey(scope)),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    ),
  );
  return written !== undefined;
}

export type EntryFilter = { expression: string; names: Record<string, string>; values: Record<string, unknown> };

/**
 * Which list of an agency's entries to read: all of them (gsi1, 32 shards), one sub-account's
 * (gsi2, 32 shards), or those of one type that is listed by type (gsi3, one list).
 */
export type EntryList = { subAccountId: string } | { type: EntryType } | 'all';

function listOf(agencyId: string, list: EntryList) {
  if (list === 'all') return { index: 'gsi1' as const, partitions: ledgerPartitions(agencyId) };
  if ('subAccountId' in list)
    return { index: 'gsi2' as const, partitions: subAccountLedgerPartitions(agencyId, list.subAccountId) };
  if (!listedByType(list.type)) throw new Error(`${list.type} entries are not listed by type`);
  return { index: 'gsi3' as const, partitions: [typeLedger(agencyId, list.type)] };
}

/**
 * A reader of one list of the agency's entries between two ids (ids are time ordered), newest
 * first, optionally filtered: the k-way merge of its shards (merged-query.ts), from the cursor
 * on. Sized for pages of `pageRows`.
 */
export function entryReader(
  agencyId: string,
  range: [string, string],
  filter: EntryFilter | undefined,
  page: { pageRows: number; cursor?: string; list: EntryList },
): MergedReader<LedgerEntryItem> {
  const below = page.cursor === undefined ? undefined : entryCursorId(page.cursor, range);
  const list = listOf(agencyId, page.list);
  // A page resumed from a cursor reads the row it resumes below once more (key bounds are inclusive).
  const firstLimit = MergedReader.firstLimit(page.pageRows + (below === undefined ? 0 : 1), list.partitions.length);
  return new MergedReader({ ...list, between: range, below, filter }, firstLimit);
}

/**
 * A history cursor: the id the list carries on below (the last row sent, or the id every shard
 * was read down to). Ids are unique and time ordered, so one id resumes every shard. Opaque to
 * clients, like every cursor; a cursor outside the range asked for is refused.
 */
export const entryCursor = (below: string | null): string | null => encodeCursor(below === null ? undefined : { below });

function entryCursorId(cursor: string, range: [string, string]): string {
  const decoded = decodeCursor(cursor);
  const below = decoded?.below;
  if (
    !below ||
    Object.keys(decoded).length !== 1 ||
    !idPattern('transaction').test(below) ||
    below < range[0] ||
    below > range[1]
  ) {
    throw foreignCursor();
  }
  return below;
}
