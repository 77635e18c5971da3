import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { db, table } from '../client';
import { ifConditionHolds } from '../conditions';
import { queryPage } from '../query';
import { getItem } from '../read';
import { type itemKinds, type Key, stored } from '../schema';
import type { TransactItem } from '../transact';
import type { Actor } from '../vocabulary';
import { accountKey } from './account';

export interface Faq {
  question: string;
  answer: string;
}

/**
 * A campaign as stored, in its account's partition (ids are time ordered, so a Query lists by
 * creation). `settings` and `configuration` are kept as JSON text: they are the client's opaque
 * documents, and DynamoDB maps would reorder their keys, refuse numbers past 1e125 and bill
 * every nested key as item overhead. `version` guards read-modify-write.
 */
export interface CampaignItem {
  kind: typeof itemKinds.campaign;
  id: string;
  accountId: string;
  agencyId: string;
  name: string;
  settingsJson: string;
  instructions: string;
  faqs: Faq[];
  configurationJson: string;
  copiedFrom?: { campaignId: string; accountId: string };
  createdBy: Actor;
  updatedBy: Actor;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** In its account's partition, beside the account item. */
const CAMPAIGN_PREFIX = 'CAMPAIGN#';
export const campaignKey = (accountId: string, campaignId: string): Key => ({
  pk: accountKey(accountId).pk,
  sk: `${CAMPAIGN_PREFIX}${campaignId}`,
});

export const getCampaignItem = (accountId: string, campaignId: string) =>
  getItem<CampaignItem>(campaignKey(accountId, campaignId));

/** A new campaign (never overwrites). */
export function putNewCampaign(item: CampaignItem): TransactItem {
  return {
    Put: {
      TableName: table(),
      Item: stored(item, campaignKey(item.accountId, item.id)),
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/** Writes the next version of a campaign; false when another write got there first. */
export async function replaceCampaign(next: CampaignItem, expectedVersion: number): Promise<boolean> {
  const written = await ifConditionHolds(
    db.send(
      new PutCommand({
        TableName: table(),
        Item: stored(next, campaignKey(next.accountId, next.id)),
        ConditionExpression: 'version = :version',
        ExpressionAttributeValues: { ':version': expectedVersion },
      }),
    ),
  );
  return written !== undefined;
}

/** Deletes a campaign; false when there was none. */
export async function deleteCampaignItem(accountId: string, campaignId: string): Promise<boolean> {
  const written = await ifConditionHolds(
    db.send(
      new DeleteCommand({
        TableName: table(),
        Key: campaignKey(accountId, campaignId),
        ConditionExpression: 'attribute_exists(pk)',
      }),
    ),
  );
  return written !== undefined;
}

export function listCampaignItems(accountId: string, page: { limit: number; cursor?: string }) {
  return queryPage<CampaignItem>({
    partition: accountKey(accountId).pk,
    sort: { beginsWith: CAMPAIGN_PREFIX },
    consistent: true,
    ...page,
  });
}
