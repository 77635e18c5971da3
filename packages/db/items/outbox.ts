import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { db, table } from '../client';
import { getItem } from '../read';
import { itemKinds, type Key, stored } from '../schema';
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
}

const RETENTION_SECONDS = 14 * 24 * 3600;

export const outboxKey = (eventId: string): Key => ({ pk: `OUTBOX#${eventId}`, sk: 'OUTBOX' });

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

export const getOutbox = <E extends { type: string }>(id: string) => getItem<OutboxItem<E>>(outboxKey(id));

export async function deleteOutbox(id: string): Promise<void> {
  await db.send(new DeleteCommand({ TableName: table(), Key: outboxKey(id) }));
}
