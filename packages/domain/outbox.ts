import { newId } from '../core/ids';
import { table } from '../db/client';
import { itemKinds, keys } from '../db/schema';
import type { TransactItem } from '../db/transact';

/**
 * Outbox events: written in the same transaction as the change that causes them, picked up
 * from the table's stream by the forwarder, queued, and carried out by the notifier. So an
 * email goes out iff its change committed, even if the request crashed right after.
 */
export interface CredentialsEmailEvent {
  type: 'sub_account.credentials';
  subAccountId: string;
  agencyId: string;
  agencyName: string;
  clientName: string;
  to: string;
  /** The generated password, sealed (see crypto/secret-box); the item is deleted once sent. */
  sealedPassword: string;
}

export type OutboxEvent = CredentialsEmailEvent;

export interface OutboxItem {
  kind: typeof itemKinds.outbox;
  id: string;
  createdAt: string;
  event: OutboxEvent;
  /** Unsent events expire after 14 days, as the queue's messages do. */
  ttl: number;
}

export function newOutboxId(): string {
  return newId('outbox');
}

export function putOutbox(id: string, event: OutboxEvent, now: Date): TransactItem {
  const item: OutboxItem & Record<string, unknown> = {
    ...keys.outbox(id),
    kind: itemKinds.outbox,
    id,
    createdAt: now.toISOString(),
    event,
    ttl: Math.floor(now.getTime() / 1000) + 14 * 24 * 3600,
  };
  return { Put: { TableName: table(), Item: item } };
}
