import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { db, table } from '../client';
import { conditionFailed } from '../conditions';
import { itemShape } from '../item-shape';
import { getItem } from '../read';
import { itemKinds, type Key, keyPrefixes } from '../schema';
import type { TransactItem } from '../transact';

/**
 * A Stripe PaymentIntent as the platform knows it, on the account it lives on: bound to the
 * purchase whose own Checkout Session paid with it, or parked by a refund or dispute event that
 * arrived before that payment did. A refund or dispute is believed only for a bound payment
 * (charge metadata is the agency's to write, never evidence); a parked one is settled as soon as
 * the payment lands. Parked items of payments that never land (the agency's own charges on its
 * own account) expire.
 */
export interface StripePaymentItem {
  kind: typeof itemKinds.stripePayment;
  paymentIntentId: string;
  /** The connected account; null for the platform's own. */
  stripeAccountId: string | null;
  purchaseId?: string;
  boundAt?: string;
  /** A refund or dispute event came first: settle once the payment lands. */
  parkedAt?: string;
  ttl?: number;
}
export const stripePaymentShape = itemShape<StripePaymentItem>(
  itemKinds.stripePayment,
  { paymentIntentId: 'string' },
  { purchaseId: 'string' },
);

/** Stripe retries an event for three days; a week covers any payment event still to come. */
const PARKED_SECONDS = 7 * 24 * 3600;

export const stripePaymentKey = (stripeAccountId: string | null, paymentIntentId: string): Key => ({
  pk: `${keyPrefixes.stripePayment}${stripeAccountId ?? 'platform'}#${paymentIntentId}`,
  sk: 'STRIPE_PAYMENT',
});

export const getStripePayment = (stripeAccountId: string | null, paymentIntentId: string) =>
  getItem(stripePaymentKey(stripeAccountId, paymentIntentId), stripePaymentShape);

/**
 * Binds the payment to the purchase, in the transaction that credits it, on condition that the
 * item is as it was read (`seen`): unbound, and parked or not exactly as seen. So a refund that
 * parks itself between that read and this write fails the transaction, and the landing reads
 * again and settles it; it can never be lost in between.
 */
export function bindStripePayment(
  seen: StripePaymentItem | undefined,
  payment: { stripeAccountId: string | null; paymentIntentId: string; purchaseId: string },
  at: string,
): TransactItem {
  return {
    Update: {
      TableName: table(),
      Key: stripePaymentKey(payment.stripeAccountId, payment.paymentIntentId),
      UpdateExpression:
        'SET #kind = :kind, paymentIntentId = :pi, stripeAccountId = :acct, purchaseId = :pur, boundAt = :now REMOVE #ttl',
      ConditionExpression: seen ? 'attribute_not_exists(purchaseId) AND parkedAt = :parkedAt' : 'attribute_not_exists(pk)',
      ExpressionAttributeNames: { '#kind': 'kind', '#ttl': 'ttl' },
      ExpressionAttributeValues: {
        ':kind': itemKinds.stripePayment,
        ':pi': payment.paymentIntentId,
        ':acct': payment.stripeAccountId,
        ':pur': payment.purchaseId,
        ':now': at,
        ...(seen ? { ':parkedAt': seen.parkedAt ?? '' } : {}),
      },
    },
  };
}

/**
 * Parks a refund or dispute of a payment not bound yet. Returns the purchase it is bound to
 * when it already is (the caller settles that purchase instead), else undefined.
 */
export async function parkStripePayment(
  stripeAccountId: string | null,
  paymentIntentId: string,
  now: Date,
): Promise<string | undefined> {
  try {
    await db.send(
      new UpdateCommand({
        TableName: table(),
        Key: stripePaymentKey(stripeAccountId, paymentIntentId),
        UpdateExpression: 'SET #kind = :kind, paymentIntentId = :pi, stripeAccountId = :acct, parkedAt = :now, #ttl = :ttl',
        ConditionExpression: 'attribute_not_exists(purchaseId)',
        ExpressionAttributeNames: { '#kind': 'kind', '#ttl': 'ttl' },
        ExpressionAttributeValues: {
          ':kind': itemKinds.stripePayment,
          ':pi': paymentIntentId,
          ':acct': stripeAccountId,
          ':now': now.toISOString(),
          ':ttl': Math.floor(now.getTime() / 1000) + PARKED_SECONDS,
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return undefined;
  } catch (err) {
    if (!conditionFailed(err)) throw err;
    const raw = (err as { Item?: Parameters<typeof unmarshall>[0] }).Item;
    const bound = raw ? stripePaymentShape.parse(unmarshall(raw)).purchaseId : undefined;
    if (!bound) throw new Error(`payment ${paymentIntentId}: parking refused but no purchase is bound`);
    return bound;
  }
}
