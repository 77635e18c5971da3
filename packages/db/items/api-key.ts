import { table } from '../client';
import { itemShape } from '../item-shape';
import { queryPage } from '../query';
import { getItem } from '../read';
import { itemKinds, type Key, keyPrefixes, stored } from '../schema';
import { type NamedItem, transact } from '../transact';

/**
 * An agency API key, found by the SHA-256 of the presented key; listed per agency on gsi1.
 * Beside it, an id item (`APIKEYID#<id>`) points to the hash, written and deleted in the same
 * transaction: revoking by id is then a strongly consistent read, never the index's (which
 * may not have the key yet right after it was created).
 */
export interface ApiKeyItem {
  kind: typeof itemKinds.apiKey;
  id: string;
  agencyId: string;
  name: string;
  keyHash: string;
  /** First characters of the key, so a user can tell keys apart in a list. */
  hint: string;
  createdAt: string;
  createdBy: string;
}
export const apiKeyShape = itemShape<ApiKeyItem>(itemKinds.apiKey, {
  id: 'string',
  agencyId: 'string',
  name: 'string',
  keyHash: 'string',
  hint: 'string',
});

export const apiKeyKey = (keyHash: string): Key => ({ pk: `${keyPrefixes.apiKey}${keyHash}`, sk: 'APIKEY' });
const apiKeyIdKey = (apiKeyId: string): Key => ({ pk: `${keyPrefixes.apiKeyId}${apiKeyId}`, sk: 'APIKEYID' });
interface ApiKeyIdItem {
  kind: typeof itemKinds.apiKeyId;
  agencyId: string;
  keyHash: string;
}
export const apiKeyIdShape = itemShape<ApiKeyIdItem>(itemKinds.apiKeyId, { agencyId: 'string', keyHash: 'string' });
const apiKeysPartition = (agencyId: string) => `AGENCY#${agencyId}#APIKEYS`;

export const findApiKey = (keyHash: string) => getItem(apiKeyKey(keyHash), apiKeyShape);

export async function putApiKey(item: ApiKeyItem, also: NamedItem[] = []): Promise<void> {
  const pointer: ApiKeyIdItem = { kind: itemKinds.apiKeyId, agencyId: item.agencyId, keyHash: item.keyHash };
  await transact([
    {
      name: 'apiKey',
      write: {
        Put: {
          TableName: table(),
          Item: stored(item, apiKeyKey(item.keyHash), { gsi1pk: apiKeysPartition(item.agencyId), gsi1sk: item.id }),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    },
    {
      name: 'apiKeyId',
      write: {
        Put: { TableName: table(), Item: stored(pointer, apiKeyIdKey(item.id)), ConditionExpression: 'attribute_not_exists(pk)' },
      },
    },
    ...also,
  ]);
}

export function listApiKeys(agencyId: string, page: { limit: number; cursor?: string }) {
  return queryPage({ index: true, partition: apiKeysPartition(agencyId), ...page }, apiKeyShape);
}

/** The hash of the agency's key with this id (a strongly consistent read), or undefined. */
export async function findAgencyApiKeyHash(agencyId: string, apiKeyId: string): Promise<string | undefined> {
  const pointer = await getItem(apiKeyIdKey(apiKeyId), apiKeyIdShape);
  if (pointer) return pointer.agencyId === agencyId ? pointer.keyHash : undefined;
  // Keys created before the id item existed are found on the list (eventually consistent, but long settled).
  const page = await queryPage(
    {
      index: true,
      partition: apiKeysPartition(agencyId),
      sort: { between: [apiKeyId, apiKeyId] },
      limit: 1,
    },
    apiKeyShape,
  );
  return page.items[0]?.keyHash;
}

/** Deletes the key and its id item together: the very next request with the key is refused. */
export async function deleteApiKey(apiKeyId: string, keyHash: string, also: NamedItem[] = []): Promise<void> {
  await transact([
    { name: 'apiKey', write: { Delete: { TableName: table(), Key: apiKeyKey(keyHash) } } },
    { name: 'apiKeyId', write: { Delete: { TableName: table(), Key: apiKeyIdKey(apiKeyId) } } },
    ...also,
  ]);
}
