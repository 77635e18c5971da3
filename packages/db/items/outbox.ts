import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, table } from '../client';
import { conditionFailed, ifConditionHolds } from '../conditions';
import { itemShape } from '../item-shape';
import { itemKinds, type Key, keyPrefixes, stored } from '../schema';
import type { NamedItem } from '../transact';

/**
 * A side effect (email, webhook) committed in the same transaction as the change that causes
 * it; the table's stream carries it to the queue. Present = not yet done, absent = done.
 */
export interface OutboxItem<E extends { type: string } = { type: string }> {
  kind: typeof itemKinds.outbox;
  id: string;
  createdAt: string;
  event: E;
  /** Unsent events expire after 14 days, as the queue's messages do. */
  ttl: number;
  /** While a delivery holds it: until when (epoch ms), and which delivery. */
  leaseUntil?: number;
  leaseToken?: string;
}

export const outboxShape = itemShape<OutboxItem>(itemKinds.outbox, { id: 'string', createdAt: 'string', event: 'object' });

const RETENTION_SECONDS = 14 * 24 * 3600;

export const outboxKey = (eventId: string): Key => ({ pk: `${keyPrefixes.outbox}${eventId}`, sk: 'OUTBOX' });

export function putOutbox<E extends { type: string }>(id: string, event: E, now: Date): NamedItem<'outbox'> {
  const item: OutboxItem<E> = {
    kind: itemKinds.outbox,
    id,
    createdAt: now.toISOString(),
    event,
    ttl: Math.floor(now.getTime() / 1000) + RETENTION_SECONDS,
  };
  return { name: 'outbox', write: { Put: { TableName: table(), Item: stored(item, outboxKey(id)) } } };
}

export type Claim<E extends { type: string }> = { claimed: OutboxItem<E> } | { done: true } | { heldUntil: number };

/**
 * Claims the event for one delivery until `leaseUntil` (epoch ms): one conditional write that
 * succeeds only if no other delivery holds an unexpired lease, and returns the item. Absent =
 * already carried out; held = another delivery is at it now.
 */
export async function claimOutbox<E extends { type: string }>(
  id: string,
  token: string,
  nowMs: number,
  leaseUntil: number,
): Promise<Claim<E>> {
  try {
    const out = await db.send(
      new UpdateCommand({
        TableName: table(),
        Key: outboxKey(id),
        UpdateExpression: 'SET leaseUntil = :until, leaseToken = :token',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)',
        ExpressionAttributeValues: { ':until': leaseUntil, ':token': token, ':now': nowMs },
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { claimed: out.Attributes as OutboxItem<E> };
  } catch (err) {
    if (!conditionFailed(err)) throw err;
    const old = (err as { Item?: Record<string, { N?: string }> }).Item;
    return old ? { heldUntil: Number(old.leaseUntil?.N ?? 0) } : { done: true };
  }
}

/** Gives a claim back (the send failed, nothing went out), so a retry need not wait for the lease to expire. */
export async function releaseOutbox(id: string, token: string): Promise<void> {
  // A lease that moved on (it expired and another delivery holds it now) is that one's to finish.
  await ifConditionHolds(
    db.send(
      new UpdateCommand({
        TableName: table(),
        Key: outboxKey(id),
        UpdateExpression: 'REMOVE leaseUntil, leaseToken',
        ConditionExpression: 'leaseToken = :token',
        ExpressionAttributeValues: { ':token': token },
      }),
    ),
  );
}

/**
 * Deletes the event once carried out, if this delivery still holds it: the sealed password
 * goes with it, and its absence records the delivery.
 */
export async function deleteOutbox(id: string, token: string): Promise<void> {
  // As above: when the lease moved on, the delivery holding it now finishes the job.
  await ifConditionHolds(
    db.send(
      new DeleteCommand({
        TableName: table(),
        Key: outboxKey(id),
        ConditionExpression: 'leaseToken = :token',
        ExpressionAttributeValues: { ':token': token },
      }),
    ),
  );
}
