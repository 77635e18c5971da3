import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { db, table } from '../client';
import { queryPage } from '../query';
import { getItem } from '../read';
import { type itemKinds, type Key, stored } from '../schema';

/** An agency API key, found by the SHA-256 of the presented key; listed per agency on gsi1. */
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

export const apiKeyKey = (keyHash: string): Key => ({ pk: `APIKEY#${keyHash}`, sk: 'APIKEY' });
const apiKeysPartition = (agencyId: string) => `AGENCY#${agencyId}#APIKEYS`;

export const findApiKey = (keyHash: string) => getItem<ApiKeyItem>(apiKeyKey(keyHash));

export async function putApiKey(item: ApiKeyItem): Promise<void> {
  await db.send(
    new PutCommand({
      TableName: table(),
      Item: stored(item, apiKeyKey(item.keyHash), { gsi1pk: apiKeysPartition(item.agencyId), gsi1sk: item.id }),
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
}

export function listApiKeys(agencyId: string, page: { limit: number; cursor?: string }) {
  return queryPage<ApiKeyItem>({ index: true, partition: apiKeysPartition(agencyId), ...page });
}

/** The agency's key with this id, from its list (the index is eventually consistent). */
export async function findAgencyApiKey(agencyId: string, apiKeyId: string): Promise<ApiKeyItem | undefined> {
  const page = await queryPage<ApiKeyItem>({
    index: true,
    partition: apiKeysPartition(agencyId),
    sort: { between: [apiKeyId, apiKeyId] },
    limit: 1,
  });
  return page.items[0];
}

export async function deleteApiKey(keyHash: string): Promise<void> {
  await db.send(new DeleteCommand({ TableName: table(), Key: apiKeyKey(keyHash) }));
}
