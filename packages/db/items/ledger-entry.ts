import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ErrorCode } from '../../core/errors';
import type { Actor } from '../../domain/auth/principal';
import type { EntryType } from '../../domain/ledger/schemas';
import { db, table } from '../client';
import { ifConditionHolds } from '../conditions';
import { queryPage } from '../query';
import { getItem } from '../read';
import { itemKinds, type Key, stored } from '../schema';
import type { TransactItem } from '../transact';
import type { BalanceKind } from './balance';

/**
 * A ledger entry: one immutable record per credit movement, keyed by its idempotency key, so
 * the key's uniqueness is the entry's own write condition (the entry IS the idempotency
 * record). Listed newest first per agency on gsi1 by its time-ordered id. Corrections are new
 * entries.
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

export type IdempotencyRecord = LedgerEntryItem | LedgerRefusalItem;

const REFUSAL_TTL_SECONDS = 24 * 3600;

/** Idempotency keys are scoped by operation and by the account acted on. */
export interface IdempotencyScope {
  agencyId: string;
  operation: string;
  accountId: string;
  idempotencyKey: string;
}

export const idempotencyKey = (s: IdempotencyScope): Key => ({
  pk: `LEDGER#${s.agencyId}`,
  sk: `IDEM#${s.operation}#${s.accountId}#${s.idempotencyKey}`,
});
const ledgerPartition = (agencyId: string) => `LEDGER#${agencyId}`;

export const getIdempotencyRecord = (s: IdempotencyScope) => getItem<IdempotencyRecord>(idempotencyKey(s));

/** The entry, on condition that its key was never used; a failed condition returns what is there. */
export function putEntry(scope: IdempotencyScope, entry: LedgerEntryItem): TransactItem {
  return {
    Put: {
      TableName: table(),
      Item: stored(entry, idempotencyKey(scope), { gsi1pk: ledgerPartition(entry.agencyId), gsi1sk: entry.id }),
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

/** The agency's entries between two ids (ids are time ordered), newest first, optionally filtered. */
export function listEntries(
  agencyId: string,
  range: [string, string],
  filter: { expression: string; names: Record<string, string>; values: Record<string, unknown> } | undefined,
  page: { limit: number; cursor?: string; maxReads?: number },
) {
  return queryPage<LedgerEntryItem>({
    index: true,
    partition: ledgerPartition(agencyId),
    sort: { between: range },
    filter,
    newestFirst: true,
    ...page,
  });
}
