import type { Actor } from '../../domain/auth/principal';
import { table } from '../client';
import { queryPage } from '../query';
import { getItem } from '../read';
import { itemKinds, type Key, stored } from '../schema';
import { ConditionsFailed, type TransactItem, transact } from '../transact';
import type { BalanceKind } from './balance';

/**
 * A credit purchase through Stripe Checkout: a sub-account buying from its agency (a direct
 * charge on the agency's connected account) or an agency buying pool credits from the platform.
 * Its status is a small state machine whose every transition is a conditional write:
 * pending → paid | failed | expired, and paid → refunded (again, as more is refunded). A failed
 * or expired purchase can still become paid (Stripe's word on money wins); paid never goes back.
 *
 * A purchase is written before Stripe is called and becomes visible (listed, on gsi1) once its
 * Checkout Session is attached; until then it carries a ttl, so one whose session was never
 * created disappears by itself. The key item maps (account, Idempotency-Key) to the purchase.
 */
export type PurchaseStatus = 'pending' | 'paid' | 'failed' | 'expired' | 'refunded';

export interface PurchaseItem {
  kind: typeof itemKinds.purchase;
  id: string;
  agencyId: string;
  /** The buying account: a sub-account (wallet) or the agency itself (pool). */
  accountId: string;
  balance: BalanceKind;
  /** The connected account that sells (direct charge); null when the platform sells. */
  stripeAccountId: string | null;
  status: PurchaseStatus;
  credits: number;
  amount: number;
  currency: string;
  applicationFeeAmount: number | null;
  perCreditPrice: string;
  packageId?: string;
  packageName?: string;
  actor: Actor;
  idempotencyKey: string;
  requestHash: string;
  /** Unix seconds: the Checkout Session's expires_at, fixed at creation so a retry sends the same request to Stripe. */
  expiresAt: number;
  checkoutSessionId?: string;
  checkoutUrl?: string;
  paymentIntentId?: string;
  chargeId?: string;
  /** Cumulative refunded amount (minor units), the credits that share stands for, and what the balance could not give back. */
  amountRefunded?: number;
  creditsRefunded?: number;
  refundShortfall?: number;
  createdAt: string;
  updatedAt: string;
  paidAt?: string;
  closedAt?: string;
  ttl?: number;
}

export interface PurchaseKeyItem {
  kind: typeof itemKinds.purchaseKey;
  purchaseId: string;
  requestHash: string;
  ttl?: number;
}

export const purchaseKey = (id: string): Key => ({ pk: `PURCHASE#${id}`, sk: 'PURCHASE' });
export const purchaseIdempotencyKey = (accountId: string, idempotencyKey: string): Key => ({
  pk: `ACCOUNT#${accountId}`,
  sk: `PURCHASE_KEY#${idempotencyKey}`,
});
const listPartition = (accountId: string) => `PURCHASES#${accountId}`;
const listed = (p: Pick<PurchaseItem, 'accountId' | 'id'>) => ({ ':gpk': listPartition(p.accountId), ':gsk': p.id });

export const getPurchase = (id: string) => getItem<PurchaseItem>(purchaseKey(id));
export const getPurchaseKey = (accountId: string, idempotencyKey: string) =>
  getItem<PurchaseKeyItem>(purchaseIdempotencyKey(accountId, idempotencyKey));

/** Writes a new purchase and its key; false when the key is already taken (the caller reads it). */
export async function createPurchase(purchase: PurchaseItem): Promise<boolean> {
  const keyItem: PurchaseKeyItem = {
    kind: itemKinds.purchaseKey,
    purchaseId: purchase.id,
    requestHash: purchase.requestHash,
    ttl: purchase.ttl,
  };
  try {
    await transact<'purchase' | 'key'>([
      {
        name: 'purchase',
        write: {
          Put: {
            TableName: table(),
            Item: stored(purchase, purchaseKey(purchase.id)),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      },
      {
        name: 'key',
        write: {
          Put: {
            TableName: table(),
            Item: stored(keyItem, purchaseIdempotencyKey(purchase.accountId, purchase.idempotencyKey)),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      },
    ]);
    return true;
  } catch (err) {
    if (err instanceof ConditionsFailed && err.failed('key')) return false;
    throw err;
  }
}

/**
 * Attaches the Checkout Session: the purchase becomes listed and permanent. Refused only if
 * another session is attached already (never with the same Stripe idempotency key).
 */
export async function attachSession(purchase: PurchaseItem, session: { id: string; url: string }, at: string): Promise<void> {
  await transact<'purchase' | 'key'>([
    {
      name: 'purchase',
      write: {
        Update: {
          TableName: table(),
          Key: purchaseKey(purchase.id),
          UpdateExpression:
            'SET checkoutSessionId = :cs, checkoutUrl = :url, gsi1pk = :gpk, gsi1sk = :gsk, updatedAt = :now REMOVE #ttl',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(checkoutSessionId) OR checkoutSessionId = :cs)',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':cs': session.id, ':url': session.url, ':now': at, ...listed(purchase) },
        },
      },
    },
    {
      name: 'key',
      write: {
        Update: {
          TableName: table(),
          Key: purchaseIdempotencyKey(purchase.accountId, purchase.idempotencyKey),
          UpdateExpression: 'REMOVE #ttl',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
        },
      },
    },
  ]);
}

/** What Stripe said about the payment, to record with a transition. */
export interface PaymentFacts {
  checkoutSessionId?: string;
  paymentIntentId?: string;
  chargeId?: string;
}

function factClauses(facts: PaymentFacts) {
  const clauses: string[] = [];
  const values: Record<string, unknown> = {};
  if (facts.checkoutSessionId) {
    clauses.push('checkoutSessionId = :cs');
    values[':cs'] = facts.checkoutSessionId;
  }
  if (facts.paymentIntentId) {
    clauses.push('paymentIntentId = :pi');
    values[':pi'] = facts.paymentIntentId;
  }
  if (facts.chargeId) {
    clauses.push('chargeId = :ch');
    values[':ch'] = facts.chargeId;
  }
  return { clauses, values };
}

/** The session named must be the purchase's own, when it has one. */
const sameSession = '(attribute_not_exists(checkoutSessionId) OR checkoutSessionId = :cs)';

/** pending | failed | expired → paid. */
export function markPaid(purchase: PurchaseItem, facts: PaymentFacts, at: string): TransactItem {
  const f = factClauses(facts);
  return {
    Update: {
      TableName: table(),
      Key: purchaseKey(purchase.id),
      UpdateExpression: `SET #status = :paid, paidAt = :now, updatedAt = :now, gsi1pk = :gpk, gsi1sk = :gsk${f.clauses.map((c) => `, ${c}`).join('')} REMOVE #ttl`,
      ConditionExpression: `#status IN (:pending, :failed, :expired)${facts.checkoutSessionId ? ` AND ${sameSession}` : ''}`,
      ExpressionAttributeNames: { '#status': 'status', '#ttl': 'ttl' },
      ExpressionAttributeValues: {
        ':paid': 'paid',
        ':pending': 'pending',
        ':failed': 'failed',
        ':expired': 'expired',
        ':now': at,
        ...listed(purchase),
        ...f.values,
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** pending → failed | expired; false when the purchase had left pending (or names another session). */
export async function closePurchase(
  purchase: PurchaseItem,
  status: 'failed' | 'expired',
  facts: PaymentFacts,
  at: string,
): Promise<boolean> {
  const f = factClauses(facts);
  try {
    await transact([
      {
        name: 'purchase',
        write: {
          Update: {
            TableName: table(),
            Key: purchaseKey(purchase.id),
            UpdateExpression: `SET #status = :to, closedAt = :now, updatedAt = :now, gsi1pk = :gpk, gsi1sk = :gsk${f.clauses.map((c) => `, ${c}`).join('')} REMOVE #ttl`,
            ConditionExpression: `#status = :pending${facts.checkoutSessionId ? ` AND ${sameSession}` : ''}`,
            ExpressionAttributeNames: { '#status': 'status', '#ttl': 'ttl' },
            ExpressionAttributeValues: { ':to': status, ':pending': 'pending', ':now': at, ...listed(purchase), ...f.values },
          },
        },
      },
    ]);
    return true;
  } catch (err) {
    if (err instanceof ConditionsFailed) return false;
    throw err;
  }
}

export interface RefundChange {
  /** Stripe's cumulative amount_refunded. */
  amountRefunded: number;
  /** The credits that cumulative amount stands for. */
  creditsRefunded: number;
  /** Credits of this step the balance could not give back. */
  shortfall: number;
  chargeId: string;
}

/**
 * paid | refunded → refunded, from exactly the refund state `purchase` was read in (the share of
 * credits taken back is computed from it), for a larger cumulative refund (events arrive in any order).
 */
export function markRefunded(purchase: PurchaseItem, change: RefundChange, at: string): TransactItem {
  const previous = purchase.amountRefunded;
  return {
    Update: {
      TableName: table(),
      Key: purchaseKey(purchase.id),
      UpdateExpression:
        'SET #status = :refunded, amountRefunded = :amount, creditsRefunded = :credits, refundShortfall = if_not_exists(refundShortfall, :zero) + :short, chargeId = :ch, updatedAt = :now',
      ConditionExpression: `#status IN (:paid, :refunded) AND ${previous === undefined ? 'attribute_not_exists(amountRefunded)' : 'amountRefunded = :previous'}`,
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':refunded': 'refunded',
        ':paid': 'paid',
        ':amount': change.amountRefunded,
        ':credits': change.creditsRefunded,
        ':short': change.shortfall,
        ':zero': 0,
        ':ch': change.chargeId,
        ':now': at,
        ...(previous === undefined ? {} : { ':previous': previous }),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** An account's purchases, newest first. */
export function listPurchases(accountId: string, page: { limit: number; cursor?: string }) {
  return queryPage<PurchaseItem>({ index: true, partition: listPartition(accountId), newestFirst: true, ...page });
}
