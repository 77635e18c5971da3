import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { notFound } from '../../core/errors';
import { newId } from '../../core/ids';
import { queryIndexPage } from '../../db/accounts';
import { db, table } from '../../db/client';
import { itemKinds, keys, tableDefinition } from '../../db/schema';
import type { CreateApiKeyBody, ListQuery } from '../accounts/schemas';
import { generateApiKey, hashApiKey } from './api-keys';

interface ApiKeyItem {
  id: string;
  agencyId: string;
  name: string;
  keyHash: string;
  /** First characters of the key, so a user can tell keys apart in a list. */
  hint: string;
  createdAt: string;
  createdBy: string;
}

const view = (k: ApiKeyItem) => ({ id: k.id, name: k.name, hint: k.hint, createdAt: k.createdAt });

export async function createApiKey(agencyId: string, userId: string, body: CreateApiKeyBody) {
  const key = generateApiKey();
  const item: ApiKeyItem = {
    id: newId('apiKey'),
    agencyId,
    name: body.name,
    keyHash: hashApiKey(key),
    hint: `${key.slice(0, 7)}…`,
    createdAt: new Date().toISOString(),
    createdBy: userId,
  };
  await db.send(
    new PutCommand({
      TableName: table(),
      Item: { ...keys.apiKeyByHash(item.keyHash), ...keys.apiKeyIndex(agencyId, item.id), kind: itemKinds.apiKey, ...item },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
  return { ...view(item), key };
}

export async function listApiKeys(agencyId: string, query: ListQuery) {
  const page = await queryIndexPage<ApiKeyItem>(keys.apiKeysOf(agencyId), query);
  return { items: page.items.map(view), nextCursor: page.nextCursor };
}

/** Revocation deletes the hash item, so the very next request with the key is refused. */
export async function revokeApiKey(agencyId: string, apiKeyId: string): Promise<void> {
  const ix = tableDefinition.indexes[0];
  const { gsi1pk, gsi1sk } = keys.apiKeyIndex(agencyId, apiKeyId);
  const out = await db.send(
    new QueryCommand({
      TableName: table(),
      IndexName: ix.name,
      KeyConditionExpression: '#pk = :pk AND #sk = :sk',
      ExpressionAttributeNames: { '#pk': ix.partitionKey, '#sk': ix.sortKey },
      ExpressionAttributeValues: { ':pk': gsi1pk, ':sk': gsi1sk },
    }),
  );
  const item = out.Items?.[0] as ApiKeyItem | undefined;
  if (!item) throw notFound('API key');
  await db.send(new DeleteCommand({ TableName: table(), Key: keys.apiKeyByHash(item.keyHash) }));
}
