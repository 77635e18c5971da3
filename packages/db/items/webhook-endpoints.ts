import { table } from '../client';
import { itemShape } from '../item-shape';
import { getItem } from '../read';
import { itemKinds, type Key, keyPrefixes, stored } from '../schema';
import { type NamedItem, type TransactItem, transactIf } from '../transact';
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
export const webhookEndpointsShape = itemShape<WebhookEndpointsItem>(itemKinds.webhookEndpoints, {
  agencyId: 'string',
  endpoints: 'object',
});

export const webhookEndpointsKey = (agencyId: string): Key => ({ pk: `${keyPrefixes.webhook}${agencyId}`, sk: 'ENDPOINTS' });

export async function getEventEndpoints(agencyId: string): Promise<StoredEventEndpoint[]> {
  const item = await getItem(webhookEndpointsKey(agencyId), webhookEndpointsShape);
  return Object.values(item?.endpoints ?? {}).sort((a, b) => a.id.localeCompare(b.id));
}

export async function getEventEndpoint(agencyId: string, id: string): Promise<StoredEventEndpoint | undefined> {
  const item = await getItem(webhookEndpointsKey(agencyId), webhookEndpointsShape);
  return item?.endpoints[id];
}

/**
 * Adds the endpoint unless the agency has `cap` already, with what goes with it: 'added' or
 * 'full'. The item is read first, so the write tried is the one that fits (the first endpoint
 * makes the item): a transaction refused by its condition is billed, audit record and all.
 */
export async function addEventEndpoint(
  agencyId: string,
  endpoint: StoredEventEndpoint,
  cap: number,
  also: NamedItem[],
): Promise<'added' | 'full'> {
  const Key = webhookEndpointsKey(agencyId);
  for (let round = 0; round < 3; round++) {
    const seen = await getItem(Key, webhookEndpointsShape);
    if (seen && Object.keys(seen.endpoints).length >= cap) return 'full';
    const write: TransactItem = seen
      ? {
          Update: {
            TableName: table(),
            Key,
            UpdateExpression: 'SET endpoints.#id = :ep',
            ConditionExpression: 'attribute_exists(endpoints) AND size(endpoints) < :cap',
            ExpressionAttributeNames: { '#id': endpoint.id },
            ExpressionAttributeValues: { ':ep': endpoint, ':cap': cap },
          },
        }
      : {
          // The agency's first endpoint: the item, holding it.
          Put: {
            TableName: table(),
            Item: stored({ kind: itemKinds.webhookEndpoints, agencyId, endpoints: { [endpoint.id]: endpoint } }, Key),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        };
    if (await transactIf('endpoints', [{ name: 'endpoints', write }, ...also])) return 'added';
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
 * Changes an endpoint's fields, with what goes with it (its audit record); turning it on (or
 * pointing it elsewhere) clears why it was off. Only over the endpoint as read (`seen`: its
 * `updatedAt` and secrets), so the record's "before" is what was replaced, and a rotation is a
 * compare-and-set. False when it is gone or changed meanwhile.
 */
export function updateEventEndpoint(
  agencyId: string,
  id: string,
  changes: EndpointChanges,
  seen: Pick<StoredEventEndpoint, 'updatedAt' | 'sealedSecrets'>,
  also: NamedItem[],
): Promise<boolean> {
  const names: Record<string, string> = { '#id': id, '#seenAt': 'updatedAt', '#sealed': 'sealedSecrets' };
  const values: Record<string, unknown> = { ':seenAt': seen.updatedAt, ':seenSecrets': seen.sealedSecrets };
  const set: string[] = [];
  for (const [field, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    names[`#${field}`] = field;
    values[`:${field}`] = value;
    set.push(`endpoints.#id.#${field} = :${field}`);
  }
  const reenabled = changes.enabled === true || changes.url !== undefined;
  if (reenabled) names['#reason'] = 'disabledReason';
  return transactIf('endpoints', [
    {
      name: 'endpoints',
      write: {
        Update: {
          TableName: table(),
          Key: webhookEndpointsKey(agencyId),
          UpdateExpression: `SET ${set.join(', ')}${reenabled ? ' REMOVE endpoints.#id.#reason' : ''}`,
          ConditionExpression: 'endpoints.#id.#seenAt = :seenAt AND endpoints.#id.#sealed = :seenSecrets',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
      },
    },
    ...also,
  ]);
}

/** Removes the endpoint as read (its `updatedAt`) and its secrets, with what goes with it; false when it is gone or changed. */
export function removeEventEndpoint(agencyId: string, id: string, seenAt: string, also: NamedItem[]): Promise<boolean> {
  return transactIf('endpoints', [
    {
      name: 'endpoints',
      write: {
        Update: {
          TableName: table(),
          Key: webhookEndpointsKey(agencyId),
          UpdateExpression: 'REMOVE endpoints.#id',
          ConditionExpression: 'endpoints.#id.#seenAt = :seenAt',
          ExpressionAttributeNames: { '#id': id, '#seenAt': 'updatedAt' },
          ExpressionAttributeValues: { ':seenAt': seenAt },
        },
      },
    },
    ...also,
  ]);
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
