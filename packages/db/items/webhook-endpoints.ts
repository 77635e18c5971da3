import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, table } from '../client';
import { conditionFailed, ifConditionHolds } from '../conditions';
import { getItem } from '../read';
import { itemKinds, type Key, stored } from '../schema';
import type { NamedItem } from '../transact';
import type { StoredWebhookEndpoint } from './reselling-settings';

/**
 * An agency's event webhook endpoints (`WEBHOOK#<agency>` / `ENDPOINTS`), all in ONE item: a
 * map of endpoint id → endpoint. At most 10 endpoints of a few KB each fit easily, the cap is
 * one condition on the map's size (no counter to keep in step), and the event producer learns
 * every subscription of an agency with one read per stream batch.
 */
export interface StoredEventEndpoint extends StoredWebhookEndpoint {
  id: string;
  events: string[];
  description?: string;
}

export interface WebhookEndpointsItem {
  kind: typeof itemKinds.webhookEndpoints;
  agencyId: string;
  endpoints: Record<string, StoredEventEndpoint>;
}

export const webhookEndpointsKey = (agencyId: string): Key => ({ pk: `WEBHOOK#${agencyId}`, sk: 'ENDPOINTS' });

export async function getEventEndpoints(agencyId: string): Promise<StoredEventEndpoint[]> {
  const item = await getItem<WebhookEndpointsItem>(webhookEndpointsKey(agencyId));
  return Object.values(item?.endpoints ?? {}).sort((a, b) => a.id.localeCompare(b.id));
}

export async function getEventEndpoint(agencyId: string, id: string): Promise<StoredEventEndpoint | undefined> {
  const item = await getItem<WebhookEndpointsItem>(webhookEndpointsKey(agencyId));
  return item?.endpoints[id];
}

/** Adds the endpoint unless the agency has `cap` already: 'added' or 'full'. */
export async function addEventEndpoint(agencyId: string, endpoint: StoredEventEndpoint, cap: number): Promise<'added' | 'full'> {
  const Key = webhookEndpointsKey(agencyId);
  for (let round = 0; round < 3; round++) {
    try {
      await db.send(
        new UpdateCommand({
          TableName: table(),
          Key,
          UpdateExpression: 'SET endpoints.#id = :ep',
          ConditionExpression: 'attribute_exists(endpoints) AND size(endpoints) < :cap',
          ExpressionAttributeNames: { '#id': endpoint.id },
          ExpressionAttributeValues: { ':ep': endpoint, ':cap': cap },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'added';
    } catch (err) {
      if (!conditionFailed(err)) throw err;
      if ((err as { Item?: unknown }).Item) return 'full';
    }
    // The agency's first endpoint: the item, holding it.
    const item: WebhookEndpointsItem = { kind: itemKinds.webhookEndpoints, agencyId, endpoints: { [endpoint.id]: endpoint } };
    const put = new PutCommand({ TableName: table(), Item: stored(item, Key), ConditionExpression: 'attribute_not_exists(pk)' });
    if (await ifConditionHolds(db.send(put))) return 'added';
  }
  throw new Error('webhook endpoints item kept changing');
}

export interface EndpointChanges {
  url?: string;
  events?: string[];
  enabled?: boolean;
  description?: string;
  sealedSecrets?: string;
  updatedAt: string;
}

/**
 * Changes an endpoint's fields; turning it on (or pointing it elsewhere) clears why it was off.
 * `seenSecrets`: only if its secrets are still those (a rotation's compare-and-set). The
 * endpoint as stored, or undefined when there is none (or the secrets moved on).
 */
export async function updateEventEndpoint(
  agencyId: string,
  id: string,
  changes: EndpointChanges,
  seenSecrets?: string,
): Promise<StoredEventEndpoint | undefined> {
  const names: Record<string, string> = { '#id': id };
  const values: Record<string, unknown> = {};
  const set: string[] = [];
  for (const [field, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    names[`#${field}`] = field;
    values[`:${field}`] = value;
    set.push(`endpoints.#id.#${field} = :${field}`);
  }
  const reenabled = changes.enabled === true || changes.url !== undefined;
  if (reenabled) names['#reason'] = 'disabledReason';
  let condition = 'attribute_exists(endpoints.#id)';
  if (seenSecrets !== undefined) {
    names['#sealed'] = 'sealedSecrets';
    values[':seen'] = seenSecrets;
    condition += ' AND endpoints.#id.#sealed = :seen';
  }
  const out = await ifConditionHolds(
    db.send(
      new UpdateCommand({
        TableName: table(),
        Key: webhookEndpointsKey(agencyId),
        UpdateExpression: `SET ${set.join(', ')}${reenabled ? ' REMOVE endpoints.#id.#reason' : ''}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    ),
  );
  return (out?.Attributes as WebhookEndpointsItem | undefined)?.endpoints[id];
}

/** Removes the endpoint and its secrets; false when there was none. */
export async function removeEventEndpoint(agencyId: string, id: string): Promise<boolean> {
  const out = await ifConditionHolds(
    db.send(
      new UpdateCommand({
        TableName: table(),
        Key: webhookEndpointsKey(agencyId),
        UpdateExpression: 'REMOVE endpoints.#id',
        ConditionExpression: 'attribute_exists(endpoints.#id)',
        ExpressionAttributeNames: { '#id': id },
      }),
    ),
  );
  return out !== undefined;
}

/** A 410 from it: off, with why, only while it is on at the URL that answered (a second 410 changes nothing). */
export const disableEventEndpoint = (
  agencyId: string,
  id: string,
  url: string,
  reason: string,
  at: string,
): NamedItem<'endpoint'> => ({
  name: 'endpoint',
  write: {
    Update: {
      TableName: table(),
      Key: webhookEndpointsKey(agencyId),
      UpdateExpression: 'SET endpoints.#id.#enabled = :false, endpoints.#id.#reason = :reason, endpoints.#id.#updatedAt = :now',
      ConditionExpression: 'endpoints.#id.#url = :url AND endpoints.#id.#enabled = :true',
      ExpressionAttributeNames: {
        '#id': id,
        '#enabled': 'enabled',
        '#reason': 'disabledReason',
        '#updatedAt': 'updatedAt',
        '#url': 'url',
      },
      ExpressionAttributeValues: { ':false': false, ':true': true, ':reason': reason, ':url': url, ':now': at },
    },
  },
});
