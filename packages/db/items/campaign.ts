import { table } from '../client';
import { itemShape } from '../item-shape';
import { queryPage } from '../query';
import { getItem } from '../read';
import { itemKinds, type Key, stored } from '../schema';
import type { TransactItem } from '../transact';
import type { Actor } from '../vocabulary';
import { accountPartition } from './account';

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
export const campaignShape = itemShape<CampaignItem>(itemKinds.campaign, {
  id: 'string',
  accountId: 'string',
  agencyId: 'string',
  name: 'string',
  faqs: 'array',
  version: 'number',
});

/** In its account's partition, beside the account item. */
const CAMPAIGN_PREFIX = 'CAMPAIGN#';
export const campaignKey = (accountId: string, campaignId: string): Key => ({
  pk: accountPartition(accountId),
  sk: `${CAMPAIGN_PREFIX}${campaignId}`,
});

export const getCampaignItem = (accountId: string, campaignId: string) =>
  getItem(campaignKey(accountId, campaignId), campaignShape);

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

/** The next version of a campaign, only over the version it was made from (read-modify-write). */
export function replaceCampaign(next: CampaignItem, expectedVersion: number): TransactItem {
  return {
    Put: {
      TableName: table(),
      Item: stored(next, campaignKey(next.accountId, next.id)),
      ConditionExpression: 'version = :version',
      ExpressionAttributeValues: { ':version': expectedVersion },
    },
  };
}

/** Deletes the campaign as it was read (its version), so what its audit record says was deleted is exactly that. */
export function deleteCampaignVersion(item: Pick<CampaignItem, 'accountId' | 'id' | 'version'>): TransactItem {
  return {
    Delete: {
      TableName: table(),
      Key: campaignKey(item.accountId, item.id),
      ConditionExpression: 'version = :version',
      ExpressionAttributeValues: { ':version': item.version },
    },
  };
}

export function listCampaignItems(accountId: string, page: { limit: number; cursor?: string }) {
  return queryPage(
    {
      partition: accountPartition(accountId),
      sort: { beginsWith: CAMPAIGN_PREFIX },
      consistent: true,
      ...page,
    },
    campaignShape,
  );
}
