import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, table } from '../client';
import { ifConditionHolds } from '../conditions';
import { itemShape } from '../item-shape';
import { queryPage } from '../query';
import { getItem } from '../read';
import { itemKinds, type Key, keyPrefixes, stored } from '../schema';
import { type NamedItem, type TransactItem, transactIf } from '../transact';
import type { EventType } from '../vocabulary';

/**
 * One webhook delivery (`whd_…`): the exact signed body, and every attempt's outcome. Its
 * insert is what queues it (the recharge detector reads it from the stream); the sender claims
 * each attempt with a conditional write on `attempts`, so a duplicate message never POSTs twice
 * for the same attempt while a delivery is alive.
 */
export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';
export type WebhookEventType = 'credits.recharge_requested' | 'webhook.test' | EventType;

export interface WebhookDeliveryItem {
  kind: typeof itemKinds.webhookDelivery;
  id: string;
  agencyId: string;
  eventType: WebhookEventType;
  /** The Standard Webhooks `webhook-id`: the same on every attempt. */
  webhookId: string;
  requestId?: string;
  /** Event webhooks: the endpoint (`we_…`) it goes to, and the event (`evt_…`) it carries; absent for auto-recharge's. */
  endpointId?: string;
  eventId?: string;
  /**
   * Event webhooks: the endpoint and the event's subject (its sub-account, else the agency).
   * Deliveries of one order key go out in the order they were made (first attempts; see send.ts).
   */
  orderKey?: string;
  /** The JSON body, exactly as signed and sent. */
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  /** How many attempts this round may take (a manual retry adds one). */
  maxAttempts: number;
  lastStatusCode?: number;
  lastError?: string;
  /** Epoch ms of the next attempt while pending. */
  nextAttemptAt?: number;
  leaseUntil?: number;
  leaseToken?: string;
  createdAt: string;
  updatedAt: string;
}
export const webhookDeliveryShape = itemShape<WebhookDeliveryItem>(itemKinds.webhookDelivery, {
  id: 'string',
  agencyId: 'string',
  webhookId: 'string',
  payload: 'string',
  status: 'string',
  attempts: 'number',
  maxAttempts: 'number',
});

const partition = (agencyId: string) => `${keyPrefixes.webhook}${agencyId}`;
export const deliveryKey = (agencyId: string, id: string): Key => ({ pk: partition(agencyId), sk: id });
export const getDelivery = (agencyId: string, id: string) => getItem(deliveryKey(agencyId, id), webhookDeliveryShape);

export function putDelivery(item: WebhookDeliveryItem): NamedItem<'delivery'> {
  return {
    name: 'delivery',
    write: {
      Put: {
        TableName: table(),
        Item: stored(item, deliveryKey(item.agencyId, item.id), item.orderKey ? orderListKeys(item) : {}),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
  };
}

/** A delivery with an order key is also on that key's list (gsi1), oldest to newest. */
const orderList = (agencyId: string, orderKey: string) => `${keyPrefixes.webhook}${agencyId}#ORDER#${orderKey}`;
const orderListKeys = (item: WebhookDeliveryItem) => ({ gsi1pk: orderList(item.agencyId, item.orderKey ?? ''), gsi1sk: item.id });

/** The delivery made just before this one under its order key, if any (an index read: eventually consistent). */
export async function previousInOrder(item: WebhookDeliveryItem): Promise<WebhookDeliveryItem | undefined> {
  if (!item.orderKey) return undefined;
  const page = await queryPage(
    {
      index: 'gsi1',
      partition: orderList(item.agencyId, item.orderKey),
      sort: { between: ['whd_', item.id] },
      newestFirst: true,
      limit: 2,
    },
    webhookDeliveryShape,
  );
  return page.items.find((d) => d.id < item.id);
}

/** The delivery, unless it exists already (a producer that runs again writes nothing): whether it was written. */
export async function putDeliveryOnce(item: WebhookDeliveryItem): Promise<boolean> {
  const { Put } = putDelivery(item).write;
  return (await ifConditionHolds(db.send(new PutCommand(Put as ConstructorParameters<typeof PutCommand>[0])))) !== undefined;
}

/** Claims attempt `attempt` for `leaseUntil` (epoch ms); false when another holds it or it was made. */
export async function claimAttempt(
  d: Pick<WebhookDeliveryItem, 'agencyId' | 'id'>,
  attempt: number,
  token: string,
  nowMs: number,
  leaseUntil: number,
) {
  const written = await ifConditionHolds(
    db.send(
      new UpdateCommand({
        TableName: table(),
        Key: deliveryKey(d.agencyId, d.id),
        UpdateExpression: 'SET leaseUntil = :until, leaseToken = :token',
        ConditionExpression:
          '#status = :pending AND attempts = :prev AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':pending': 'pending',
          ':prev': attempt - 1,
          ':now': nowMs,
          ':until': leaseUntil,
          ':token': token,
        },
      }),
    ),
  );
  return written !== undefined;
}

/** Gives a claim back without recording an attempt (the sender failed before it could say how the POST went). */
export async function releaseAttempt(d: Pick<WebhookDeliveryItem, 'agencyId' | 'id'>, token: string) {
  await ifConditionHolds(
    db.send(
      new UpdateCommand({
        TableName: table(),
        Key: deliveryKey(d.agencyId, d.id),
        UpdateExpression: 'REMOVE leaseUntil, leaseToken',
        ConditionExpression: 'leaseToken = :token',
        ExpressionAttributeValues: { ':token': token },
      }),
    ),
  );
}

export interface AttemptRecord {
  attempt: number;
  status: DeliveryStatus;
  statusCode?: number;
  error?: string;
  nextAttemptAt?: number;
  at: string;
}

/** Records attempt n's outcome, if this sender still holds it; the lease goes. */
export function recordAttempt(
  d: Pick<WebhookDeliveryItem, 'agencyId' | 'id'>,
  token: string,
  r: AttemptRecord,
): NamedItem<'delivery'> {
  const set = ['#status = :status', 'attempts = :n', 'updatedAt = :at'];
  const remove = ['leaseUntil', 'leaseToken'];
  const values: Record<string, unknown> = { ':status': r.status, ':n': r.attempt, ':at': r.at, ':token': token };
  for (const [name, value] of [
    ['lastStatusCode', r.statusCode],
    ['lastError', r.error],
    ['nextAttemptAt', r.nextAttemptAt],
  ] as const) {
    if (value === undefined) remove.push(name);
    else {
      set.push(`${name} = :${name}`);
      values[`:${name}`] = value;
    }
  }
  const write: TransactItem = {
    Update: {
      TableName: table(),
      Key: deliveryKey(d.agencyId, d.id),
      UpdateExpression: `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`,
      ConditionExpression: 'leaseToken = :token',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: values,
    },
  };
  return { name: 'delivery', write };
}

/**
 * A manual retry: a failed delivery becomes pending with one more attempt allowed, with what
 * goes with it (its audit record); false when it is no longer the failed delivery read
 * (`seenAttempts`): pending ones are on their way, succeeded ones are done.
 */
export function reopenDelivery(
  agencyId: string,
  id: string,
  seenAttempts: number,
  now: { ms: number; iso: string },
  also: NamedItem[],
): Promise<boolean> {
  return transactIf('delivery', [
    {
      name: 'delivery',
      write: {
        Update: {
          TableName: table(),
          Key: deliveryKey(agencyId, id),
          UpdateExpression: 'SET #status = :pending, maxAttempts = attempts + :one, nextAttemptAt = :now, updatedAt = :at',
          ConditionExpression: '#status = :failed AND attempts = :seen',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':pending': 'pending',
            ':failed': 'failed',
            ':one': 1,
            ':seen': seenAttempts,
            ':now': now.ms,
            ':at': now.iso,
          },
        },
      },
    },
    ...also,
  ]);
}

/** Undoes a manual retry whose message could not be queued (still pending, no attempt made since): failed again. */
export async function unreopenDelivery(agencyId: string, id: string, attempts: number): Promise<void> {
  await ifConditionHolds(
    db.send(
      new UpdateCommand({
        TableName: table(),
        Key: deliveryKey(agencyId, id),
        UpdateExpression: 'SET #status = :failed, maxAttempts = attempts REMOVE nextAttemptAt',
        ConditionExpression: '#status = :pending AND attempts = :n AND attribute_not_exists(leaseToken)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':failed': 'failed', ':pending': 'pending', ':n': attempts },
      }),
    ),
  );
}

/**
 * The agency's deliveries, newest first, optionally in one status: those to one event endpoint
 * (`endpointId`), or else the auto-recharge endpoint's (which carry none).
 */
export function listDeliveries(
  agencyId: string,
  q: { limit: number; cursor?: string; status?: DeliveryStatus; endpointId?: string },
) {
  const names: Record<string, string> = { '#endpoint': 'endpointId' };
  const values: Record<string, unknown> = {};
  const clauses = [q.endpointId ? '#endpoint = :endpoint' : 'attribute_not_exists(#endpoint)'];
  if (q.endpointId) values[':endpoint'] = q.endpointId;
  if (q.status) {
    clauses.push('#status = :status');
    names['#status'] = 'status';
    values[':status'] = q.status;
  }
  return queryPage(
    {
      partition: partition(agencyId),
      sort: { beginsWith: 'whd_' },
      newestFirst: true,
      limit: q.limit,
      cursor: q.cursor,
      maxReads: 10,
      filter: { expression: clauses.join(' AND '), names, ...(Object.keys(values).length ? { values } : {}) },
    },
    webhookDeliveryShape,
  );
}
