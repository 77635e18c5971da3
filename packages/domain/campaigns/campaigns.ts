import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { AppError, notFound } from '../../core/errors';
import { newId } from '../../core/ids';
import { type AccountItem, getItem } from '../../db/accounts';
import { db, table } from '../../db/client';
import { decodeCursor, encodeCursor, foreignCursor } from '../../db/cursor';
import { itemKinds, keys } from '../../db/schema';
import { accountClosed } from '../accounts/errors';
import type { ListQuery } from '../accounts/schemas';
import { actorOf, type Principal } from '../auth/principal';
import { type CampaignItem, campaignView, contentItem, contentOf } from './items';
import type { CreateCampaignBody, PatchCampaignBody } from './schemas';

/** A closed account keeps its campaigns readable (its history stays) but takes no new writes. */
export function assertWritable(account: AccountItem): void {
  if (account.status !== 'active') throw accountClosed(account.id);
}

export async function createCampaign(principal: Principal, account: AccountItem, body: CreateCampaignBody) {
  assertWritable(account);
  const now = new Date().toISOString();
  const actor = actorOf(principal);
  const item: CampaignItem = {
    kind: itemKinds.campaign,
    id: newId('campaign'),
    accountId: account.id,
    agencyId: account.agencyId,
    ...contentItem(body),
    createdBy: actor,
    updatedBy: actor,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  await db.send(
    new PutCommand({
      TableName: table(),
      Item: { ...keys.campaign(account.id, item.id), ...item },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
  return { campaign: campaignView(item) };
}

/** The campaign, looked up under the account in scope only: an id from elsewhere is a 404. */
export async function findCampaign(accountId: string, campaignId: string): Promise<CampaignItem> {
  const item = await getItem<CampaignItem>(keys.campaign(accountId, campaignId));
  if (!item) throw notFound('Campaign');
  return item;
}

export async function getCampaign(account: AccountItem, campaignId: string) {
  return { campaign: campaignView(await findCampaign(account.id, campaignId)) };
}

export async function listCampaigns(account: AccountItem, query: ListQuery) {
  const part = keys.campaignsOf(account.id);
  const start = decodeCursor(query.cursor);
  // Pin the cursor to this list, so a cursor of another account's list is a 400, not a page of it.
  if (start && (start.pk !== part.pk || !start.sk?.startsWith(part.skPrefix) || Object.keys(start).length !== 2)) {
    throw foreignCursor();
  }
  const out = await db.send(
    new QueryCommand({
      TableName: table(),
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': part.pk, ':prefix': part.skPrefix },
      Limit: query.limit,
      ExclusiveStartKey: start,
      ConsistentRead: true,
    }),
  );
  const items = (out.Items ?? []) as CampaignItem[];
  return { items: items.map(campaignView), nextCursor: encodeCursor(out.LastEvaluatedKey) };
}

/**
 * Read, merge, write back guarded by `version`: the merged campaign must pass the size limit,
 * which an UpdateExpression cannot check. A concurrent write makes us re-read and try again.
 */
export async function patchCampaign(principal: Principal, account: AccountItem, campaignId: string, body: PatchCampaignBody) {
  assertWritable(account);
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await findCampaign(account.id, campaignId);
    const next: CampaignItem = {
      ...current,
      ...contentItem({ ...contentOf(current), ...body }),
      updatedBy: actorOf(principal),
      updatedAt: new Date().toISOString(),
      version: current.version + 1,
    };
    try {
      await db.send(
        new PutCommand({
          TableName: table(),
          Item: { ...keys.campaign(account.id, campaignId), ...next },
          ConditionExpression: 'version = :version',
          ExpressionAttributeValues: { ':version': current.version },
        }),
      );
      return { campaign: campaignView(next) };
    } catch (err) {
      if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
    }
  }
  throw new AppError('conflict', 'The campaign kept changing while it was being updated; retry');
}

export async function deleteCampaign(account: AccountItem, campaignId: string): Promise<void> {
  assertWritable(account);
  await db
    .send(
      new DeleteCommand({
        TableName: table(),
        Key: keys.campaign(account.id, campaignId),
        ConditionExpression: 'attribute_exists(pk)',
      }),
    )
    .catch((err: Error) => {
      if (err.name === 'ConditionalCheckFailedException') throw notFound('Campaign');
      throw err;
    });
}
