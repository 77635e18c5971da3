import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, table } from '../client';
import { itemShape } from '../item-shape';
import { queryPage } from '../query';
import { getItem } from '../read';
import { itemKinds, type Key, keyPrefixes, stored } from '../schema';
import { type NamedItem, type TransactItem, transact, transactIf } from '../transact';
import type { Actor } from '../vocabulary';
import { accountPartition } from './account';
import type { BalanceKind } from './balance';

/**
 * A credit purchase through Stripe Checkout: a sub-account buying from its agency (a direct
 * charge on the agency's connected account) or an agency buying pool credits from the platform.
 * Its status is a small state machine whose every transition is a conditional write:
 * pending → paid | failed | expired; a failed or expired purchase can still become paid
 * (Stripe's word on money wins). Once paid, what Stripe says of the payment's refunds and
 * disputes is settled against it (settlement.ts): paid ⇄ refunded ⇄ disputed, each step
 * conditioned on the settlement version it was computed from. A payment that lands after its
 * sub-account closed goes pending → refunded without crediting anything (`closedAccountRefund`).
 *
 * A purchase is written before Stripe is called and becomes visible (listed, on gsi1) once its
 * Checkout Session is attached; until then it carries a ttl, so one whose session was never
 * created disappears by itself. The key item maps (account, Idempotency-Key) to the purchase.
 */
export type PurchaseStatus = 'pending' | 'paid' | 'failed' | 'expired' | 'refunded' | 'disputed';

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
  /** What made it: a person at Checkout (`manual`, absent on older items) or an auto top-up crossing (auto-top-up/attempt.ts). */
  trigger?: 'manual' | 'auto_top_up';
  /** Auto top-up: the crossing it pays for (its Stripe idempotency key), and why Stripe refused it, in plain words. */
  crossing?: number;
  failureReason?: string;
  actor: Actor;
  idempotencyKey: string;
  requestHash: string;
  /** Unix seconds: the Checkout Session's expires_at, fixed at creation so a retry sends the same request to Stripe. */
  expiresAt: number;
  checkoutSessionId?: string;
  checkoutUrl?: string;
  paymentIntentId?: string;
  chargeId?: string;
  /**
   * The settlement of refunds and disputes (settlement.ts), as last applied: Stripe's refunded
   * and disputed amounts (minor units), the credits each stands for (owed back), and of those
   * the credits the balance could not give back (shortfall). Absent = zero.
   */
  amountRefunded?: number;
  creditsRefunded?: number;
  refundShortfall?: number;
  amountDisputed?: number;
  creditsDisputed?: number;
  disputeShortfall?: number;
  /** Stripe's status of the payment's latest dispute (needs_response, won, lost…); null or absent: none. */
  disputeStatus?: string | null;
  /** Bumped by every settlement step: the condition that keeps two steps from applying the same news twice. */
  settleVersion?: number;
  /** The payment landed after the sub-account had closed: refunded at Stripe instead of credited. */
  closedAccountRefund?: { requestedAt: string; refundId?: string };
  createdAt: string;
  updatedAt: string;
  paidAt?: string;
  closedAt?: string;
  ttl?: number;
}
export const purchaseShape = itemShape<PurchaseItem>(
  itemKinds.purchase,
  {
    id: 'string',
    agencyId: 'string',
    accountId: 'string',
    balance: ['pool', 'wallet'],
    status: 'string',
    credits: 'number',
    amount: 'number',
    currency: 'string',
  },
  { settleVersion: 'number' },
);

export interface PurchaseKeyItem {
  kind: typeof itemKinds.purchaseKey;
  purchaseId: string;
  requestHash: string;
  ttl?: number;
}
export const purchaseKeyShape = itemShape<PurchaseKeyItem>(itemKinds.purchaseKey, {
  purchaseId: 'string',
  requestHash: 'string',
});

export const purchaseKey = (id: string): Key => ({ pk: `${keyPrefixes.purchase}${id}`, sk: 'PURCHASE' });
export const purchaseIdempotencyKey = (accountId: string, idempotencyKey: string): Key => ({
  pk: accountPartition(accountId),
  sk: `PURCHASE_KEY#${idempotencyKey}`,
});
const listPartition = (accountId: string) => `PURCHASES#${accountId}`;
const listed = (p: Pick<PurchaseItem, 'accountId' | 'id'>) => ({ ':gpk': listPartition(p.accountId), ':gsk': p.id });

export const getPurchase = (id: string) => getItem(purchaseKey(id), purchaseShape);
export const getPurchaseKey = (accountId: string, idempotencyKey: string) =>
  getItem(purchaseIdempotencyKey(accountId, idempotencyKey), purchaseKeyShape);

/** Writes a new purchase and its key; false when the key is already taken (the caller reads it). */
export async function createPurchase(purchase: PurchaseItem): Promise<boolean> {
  const keyItem: PurchaseKeyItem = {
    kind: itemKinds.purchaseKey,
    purchaseId: purchase.id,
    requestHash: purchase.requestHash,
    ttl: purchase.ttl,
  };
  return transactIf('key', [
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
}

/**
 * Attaches the Checkout Session: the purchase becomes listed and permanent. Refused only if
 * another session is attached already (never with the same Stripe idempotency key).
 */
export async function attachSession(
  purchase: PurchaseItem,
  session: { id: string; url: string },
  at: string,
  also: NamedItem[],
): Promise<void> {
  await transact<string>([
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
    ...also,
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

/** The facts of a payment that lands: always the purchase's own Checkout Session. */
export type LandingFacts = PaymentFacts & { checkoutSessionId: string };

/**
 * pending | failed | expired → paid, only by the Checkout Session the platform created for the
 * purchase and attached to it (a purchase without one was never shown to anybody to pay).
 */
export function markPaid(purchase: PurchaseItem, facts: LandingFacts, at: string): TransactItem {
  const f = factClauses(facts);
  return {
    Update: {
      TableName: table(),
      Key: purchaseKey(purchase.id),
      UpdateExpression: `SET #status = :paid, paidAt = :now, updatedAt = :now, gsi1pk = :gpk, gsi1sk = :gsk${f.clauses.map((c) => `, ${c}`).join('')} REMOVE #ttl`,
      ConditionExpression: '#status IN (:pending, :failed, :expired) AND checkoutSessionId = :cs',
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

/** pending → failed | expired, by the purchase's own session; false when it had left pending (or names another session). */
export async function closePurchase(
  purchase: PurchaseItem,
  status: 'failed' | 'expired',
  facts: LandingFacts,
  at: string,
): Promise<boolean> {
  const f = factClauses(facts);
  return transactIf('purchase', [
    {
      name: 'purchase',
      write: {
        Update: {
          TableName: table(),
          Key: purchaseKey(purchase.id),
          UpdateExpression: `SET #status = :to, closedAt = :now, updatedAt = :now, gsi1pk = :gpk, gsi1sk = :gsk${f.clauses.map((c) => `, ${c}`).join('')} REMOVE #ttl`,
          ConditionExpression: '#status = :pending AND checkoutSessionId = :cs',
          ExpressionAttributeNames: { '#status': 'status', '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':to': status, ':pending': 'pending', ':now': at, ...listed(purchase), ...f.values },
        },
      },
    },
  ]);
}

/**
 * pending | failed | expired → refunded for a payment that landed after its sub-account closed:
 * nothing is credited; the refund at Stripe is asked for next and recorded by `recordClosedAccountRefund`.
 */
export function markRefundedOnLanding(purchase: PurchaseItem, facts: LandingFacts, at: string): TransactItem {
  const f = factClauses(facts);
  return {
    Update: {
      TableName: table(),
      Key: purchaseKey(purchase.id),
      UpdateExpression: `SET #status = :refunded, paidAt = :now, updatedAt = :now, closedAccountRefund = :req, gsi1pk = :gpk, gsi1sk = :gsk${f.clauses.map((c) => `, ${c}`).join('')} REMOVE #ttl`,
      ConditionExpression: '#status IN (:pending, :failed, :expired) AND checkoutSessionId = :cs',
      ExpressionAttributeNames: { '#status': 'status', '#ttl': 'ttl' },
      ExpressionAttributeValues: {
        ':refunded': 'refunded',
        ':pending': 'pending',
        ':failed': 'failed',
        ':expired': 'expired',
        ':now': at,
        ':req': { requestedAt: at },
        ...listed(purchase),
        ...f.values,
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** The refund Stripe made for a payment that landed on a closed sub-account (idempotent). */
export async function recordClosedAccountRefund(purchaseId: string, refundId: string, amountRefunded: number, at: string) {
  await db.send(
    new UpdateCommand({
      TableName: table(),
      Key: purchaseKey(purchaseId),
      UpdateExpression: 'SET closedAccountRefund.refundId = :re, amountRefunded = :amount, updatedAt = :now',
      ConditionExpression: 'attribute_exists(closedAccountRefund)',
      ExpressionAttributeValues: { ':re': refundId, ':amount': amountRefunded, ':now': at },
    }),
  );
}

/** A purchase's refunds and disputes as settled: what `settle` writes (see PurchaseItem). */
export interface SettledState {
  status: 'paid' | 'refunded' | 'disputed';
  amountRefunded: number;
  creditsRefunded: number;
  refundShortfall: number;
  amountDisputed: number;
  creditsDisputed: number;
  disputeShortfall: number;
  disputeStatus: string | null;
}

/**
 * One settlement step, from exactly the settlement version `purchase` was read at (so a step
 * computed from an older reading of the purchase can never apply twice or overwrite a newer one).
 */
export function settle(purchase: PurchaseItem, next: SettledState, at: string): TransactItem {
  const version = purchase.settleVersion ?? 0;
  return {
    Update: {
      TableName: table(),
      Key: purchaseKey(purchase.id),
      UpdateExpression:
        'SET #status = :status, amountRefunded = :ar, creditsRefunded = :cr, refundShortfall = :rs, amountDisputed = :ad, creditsDisputed = :cd, disputeShortfall = :ds, disputeStatus = :dst, settleVersion = :next, updatedAt = :now',
      ConditionExpression: `#status IN (:paid, :refunded, :disputed) AND attribute_not_exists(closedAccountRefund) AND ${
        version === 0 ? 'attribute_not_exists(settleVersion)' : 'settleVersion = :version'
      }`,
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':status': next.status,
        ':paid': 'paid',
        ':refunded': 'refunded',
        ':disputed': 'disputed',
        ':ar': next.amountRefunded,
        ':cr': next.creditsRefunded,
        ':rs': next.refundShortfall,
        ':ad': next.amountDisputed,
        ':cd': next.creditsDisputed,
        ':ds': next.disputeShortfall,
        ':dst': next.disputeStatus,
        ':next': version + 1,
        ':now': at,
        ...(version === 0 ? {} : { ':version': version }),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** An account's purchases, newest first. */
export function listPurchases(accountId: string, page: { limit: number; cursor?: string }) {
  return queryPage({ index: true, partition: listPartition(accountId), newestFirst: true, ...page }, purchaseShape);
}

/**
 * An auto top-up's purchase, listed at once (pending): no Checkout Session precedes it, the
 * platform charges the saved card off session. Written with the crossing that causes it.
 */
export function putTopUpPurchase(p: PurchaseItem): TransactItem {
  return {
    Put: {
      TableName: table(),
      Item: stored(p, purchaseKey(p.id), { gsi1pk: listPartition(p.accountId), gsi1sk: p.id }),
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/**
 * The PaymentIntent Stripe made for an auto top-up, recorded as soon as Stripe answers: from
 * then on an event about it can be checked against the id we stored (metadata is never
 * evidence). Idempotent; refused only when another PaymentIntent is recorded already.
 */
export async function recordTopUpIntent(purchaseId: string, paymentIntentId: string, at: string): Promise<boolean> {
  try {
    await db.send(
      new UpdateCommand({
        TableName: table(),
        Key: purchaseKey(purchaseId),
        UpdateExpression: 'SET paymentIntentId = :pi, updatedAt = :now',
        ConditionExpression: '#trigger = :auto AND (attribute_not_exists(paymentIntentId) OR paymentIntentId = :pi)',
        // TRIGGER is a DynamoDB reserved word.
        ExpressionAttributeNames: { '#trigger': 'trigger' },
        ExpressionAttributeValues: { ':pi': paymentIntentId, ':now': at, ':auto': 'auto_top_up' },
      }),
    );
    return true;
  } catch (err) {
    if ((err as Error).name === 'ConditionalCheckFailedException') return false;
    throw err;
  }
}

/** pending → paid by the auto top-up's own PaymentIntent (the one recorded on it). */
export function markTopUpPaid(p: PurchaseItem, paymentIntentId: string, chargeId: string | undefined, at: string): TransactItem {
  return {
    Update: {
      TableName: table(),
      Key: purchaseKey(p.id),
      UpdateExpression: `SET #status = :paid, paidAt = :now, updatedAt = :now${chargeId ? ', chargeId = :ch' : ''}`,
      ConditionExpression: '#status = :pending AND paymentIntentId = :pi',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':paid': 'paid',
        ':pending': 'pending',
        ':pi': paymentIntentId,
        ':now': at,
        ...(chargeId ? { ':ch': chargeId } : {}),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/**
 * pending → failed: the card was declined, or the bank asks for authentication (then with the
 * Checkout Session where the agency can still pay it: its completion lands the purchase as any
 * Checkout payment does, see markPaid).
 */
export function markTopUpFailed(
  p: PurchaseItem,
  paymentIntentId: string | undefined,
  reason: string,
  at: string,
  session?: { id: string; url: string },
): TransactItem {
  return {
    Update: {
      TableName: table(),
      Key: purchaseKey(p.id),
      UpdateExpression: `SET #status = :failed, closedAt = :now, updatedAt = :now, failureReason = :reason${session ? ', checkoutSessionId = :cs, checkoutUrl = :url' : ''}`,
      // No PaymentIntent: Stripe refused to make one (the card was detached meanwhile).
      ConditionExpression: `#status = :pending AND ${paymentIntentId ? 'paymentIntentId = :pi' : 'attribute_not_exists(paymentIntentId)'}`,
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':failed': 'failed',
        ':pending': 'pending',
        ...(paymentIntentId ? { ':pi': paymentIntentId } : {}),
        ':now': at,
        ':reason': reason,
        ...(session ? { ':cs': session.id, ':url': session.url } : {}),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}
