import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { logger } from '../../core/logger';
import { type AccountItem, accountKey } from '../../db/items/account';
import { type ResellingSettingsItem, resellingSettingsKey } from '../../db/items/reselling-settings';
import { getItems, itemId } from '../../db/read';
import { type OpenOutcome, openRechargeRequest } from './open';
import { enqueueDelivery } from './queue';

/**
 * The recharge detector's stream batch (its filter passes wallet modifications and delivery
 * inserts only). A wallet that went DOWN may have crossed its sub-account's threshold: per
 * sub-account, the lowest balance of the batch is judged (the opening's conditional write keeps
 * it to one request however many records or containers see the crossing). A delivery insert
 * is queued for the sender. Failures are reported by the first failed record, as Lambda's
 * stream source expects; what was done before it is safe to do again.
 */
export async function handleRechargeRecords(records: DynamoDBRecord[]): Promise<DynamoDBBatchResponse> {
  const failed: number[] = [];
  const drops = new Map<string, { index: number; agencyId: string; balance: number; at: Date }>();
  const deliveries: { index: number; agencyId: string; deliveryId: string }[] = [];

  records.forEach((record, index) => {
    const image = record.dynamodb?.NewImage;
    if (!image) return;
    const item = unmarshall(image as never) as Record<string, unknown>;
    if (item.kind === 'webhook_delivery' && record.eventName === 'INSERT') {
      deliveries.push({ index, agencyId: String(item.agencyId), deliveryId: String(item.id) });
      return;
    }
    if (item.kind !== 'balance' || item.sk !== 'WALLET' || record.eventName !== 'MODIFY') return;
    const before = unmarshall((record.dynamodb?.OldImage ?? {}) as never) as { balance?: number };
    const balance = Number(item.balance);
    if (!(balance < Number(before.balance ?? Number.POSITIVE_INFINITY))) return; // credits in: never a trigger
    const subAccountId = String(item.pk).slice('ACCOUNT#'.length);
    const seen = drops.get(subAccountId);
    if (!seen || balance < seen.balance)
      drops.set(subAccountId, { index, agencyId: String(item.agencyId), balance, at: new Date(String(item.updatedAt)) });
  });

  await Promise.all([
    ...deliveries.map(async (d) => {
      try {
        await enqueueDelivery({ agencyId: d.agencyId, deliveryId: d.deliveryId, attempt: 1 });
      } catch (err) {
        logger.warn('could not queue a webhook delivery', { deliveryId: d.deliveryId, error: (err as Error).message });
        failed.push(d.index);
      }
    }),
    ...[...drops].map(async ([subAccountId, drop]) => {
      try {
        await judgeDrop(subAccountId, drop);
      } catch (err) {
        logger.warn('could not judge a wallet drop', { subAccountId, error: (err as Error).message });
        failed.push(drop.index);
      }
    }),
  ]);
  if (!failed.length) return { batchItemFailures: [] };
  const first = records[Math.min(...failed)];
  return { batchItemFailures: [{ itemIdentifier: first?.dynamodb?.SequenceNumber ?? '' }] };
}

async function judgeDrop(subAccountId: string, drop: { agencyId: string; balance: number; at: Date }): Promise<OpenOutcome> {
  const keys = [accountKey(subAccountId), accountKey(drop.agencyId), resellingSettingsKey(drop.agencyId)];
  const found = await getItems(keys);
  const [sub, agency, settings] = keys.map((k) => found.get(itemId(k)));
  if (!sub || !agency) return 'off';
  return openRechargeRequest({
    sub: sub as unknown as AccountItem,
    agency: agency as unknown as AccountItem,
    settings: settings as unknown as ResellingSettingsItem | undefined,
    balance: drop.balance,
    at: drop.at,
  });
}
