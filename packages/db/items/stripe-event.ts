import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { db, table } from '../client';
import { itemShape } from '../item-shape';
import { getItem } from '../read';
import { itemKinds, type Key, keyPrefixes, stored } from '../schema';

/**
 * A Stripe event handled, by its id: a redelivery is recognized and answered without redoing
 * anything. Only a shortcut and a record: correctness never depends on it (every transition is
 * conditional), so two deliveries racing past the check still change things once. Kept 30 days
 * (Stripe retries for 3).
 */
export interface StripeEventItem {
  kind: typeof itemKinds.stripeEvent;
  eventId: string;
  type: string;
  account: string | null;
  outcome: string;
  handledAt: string;
  ttl: number;
}
export const stripeEventShape = itemShape<StripeEventItem>(itemKinds.stripeEvent, {
  eventId: 'string',
  type: 'string',
  outcome: 'string',
});

const KEEP_SECONDS = 30 * 24 * 3600;

export const stripeEventKey = (eventId: string): Key => ({ pk: `${keyPrefixes.stripeEvent}${eventId}`, sk: 'STRIPE_EVENT' });

export const getStripeEvent = (eventId: string) => getItem(stripeEventKey(eventId), stripeEventShape);

export async function recordStripeEvent(e: Omit<StripeEventItem, 'kind' | 'ttl'>): Promise<void> {
  const item: StripeEventItem = {
    kind: itemKinds.stripeEvent,
    ...e,
    ttl: Math.floor(Date.parse(e.handledAt) / 1000) + KEEP_SECONDS,
  };
  await db.send(new PutCommand({ TableName: table(), Item: stored(item, stripeEventKey(e.eventId)) }));
}
