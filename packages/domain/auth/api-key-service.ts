import { nowIso } from '#core/clock';
import { notFound } from '#core/errors';
import { newId } from '#core/ids';
import {
  type ApiKeyItem,
  deleteApiKey,
  findAgencyApiKeyHash,
  listApiKeys as listApiKeyItems,
  putApiKey,
} from '#db/items/api-key';
import { itemKinds } from '#db/schema';
import type { CreateApiKeyBody, ListQuery } from '../accounts/schemas';
import { audited } from '../audit/record';
import { generateApiKey, hashApiKey } from './api-keys';

const view = (k: ApiKeyItem) => ({ id: k.id, name: k.name, hint: k.hint, createdAt: k.createdAt });

export async function createApiKey(agencyId: string, userId: string, body: CreateApiKeyBody) {
  const key = generateApiKey();
  const item: ApiKeyItem = {
    kind: itemKinds.apiKey,
    id: newId('apiKey'),
    agencyId,
    name: body.name,
    keyHash: hashApiKey(key),
    hint: `${key.slice(0, 7)}…`,
    createdAt: nowIso(),
    createdBy: userId,
  };
  // Its name only: neither the key nor its hash or hint.
  const change = [{ field: 'name', before: null, after: item.name }];
  await putApiKey(item, [
    audited({ agencyId, action: 'api_key.created', target: { type: 'api_key', id: item.id }, changes: change }),
  ]);
  return { ...view(item), key };
}

export async function listApiKeys(agencyId: string, query: ListQuery) {
  const page = await listApiKeyItems(agencyId, query);
  return { items: page.items.map(view), nextCursor: page.nextCursor };
}

/** Revocation deletes the hash item, so the very next request with the key is refused. */
export async function revokeApiKey(agencyId: string, apiKeyId: string): Promise<void> {
  const keyHash = await findAgencyApiKeyHash(agencyId, apiKeyId);
  if (!keyHash) throw notFound('API key');
  await deleteApiKey(apiKeyId, keyHash, [
    audited({ agencyId, action: 'api_key.revoked', target: { type: 'api_key', id: apiKeyId } }),
  ]);
}
