import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { logger } from '#core/logger';
import { accountIdOf, accountKey, agencyShape, subAccountShape } from '#db/items/account';
import { walletKey } from '#db/items/balance';
import { resellingSettingsKey, resellingSettingsShape } from '#db/items/reselling-settings';
import { foundItem, getItems } from '#db/read';
import type { Key } from '#db/schema';
import { type BalanceChange, balanceChangeOf, judgeBalance, latestChanges } from '../auto-top-up/detect';
import { produceEvents } from '../events/produce';
import { exactBalance } from '../ledger/balances';
import { type OpenOutcome, openRechargeRequest } from './open';
import { enqueueDelivery } from './queue';

/**
 * The recharge detector's stream batch (its filters pass pool and wallet modifications, their
 * lanes, delivery inserts, and the changes that are events: events/sources.ts). Events become
 * deliveries to the agency's event endpoints (events/produce.ts). Each pool and wallet that moved is judged for auto top-up
 * and low-balance alerts (auto-top-up/detect.ts). A wallet that went DOWN may have crossed its sub-account's threshold: per
 * sub-account, the lowest balance of the batch is judged (the opening's conditional write keeps
 * it to one request however many records or containers see the crossing). A delivery insert
 * is queued for the sender. Failures are reported by the first failed record, as Lambda's
 * stream source expects; what was done before it is safe to do again.
 */
export async function handleRechargeRecords(records: DynamoDBRecord[]): Promise<DynamoDBBatchResponse> {
  const failed: number[] = [];
  const drops = new Map<string, { index: number; agencyId: string; balance: number | undefined; at: Date }>();
  const deliveries: { index: number; agencyId: string; deliveryId: string }[] = [];
  const changes: Array<BalanceChange & { index: number }> = [];

  records.forEach((record, index) => {
    const image = record.dynamodb?.NewImage;
    if (!image) return;
    const item = unmarshall(image as never) as Record<string, unknown>;
    if (item.kind === 'webhook_delivery' && record.eventName === 'INSERT') {
      deliveries.push({ index, agencyId: String(item.agencyId), deliveryId: String(item.id) });
      return;
    }
    const change = balanceChangeOf(record, item);
    if (change) changes.push({ ...change, index });
    const drop = walletDrop(record, item);
    if (!drop) return;
    const seen = drops.get(drop.subAccountId);
    // The lowest balance of the batch is judged; one a lane holds part of is read whole (exact: undefined).
    if (!seen || drop.balance === undefined || (seen.balance !== undefined && drop.balance < seen.balance))
      drops.set(drop.subAccountId, { index, agencyId: drop.agencyId, balance: drop.balance, at: drop.at });
  });

  await Promise.all([
    produceEvents(records).then((indexes) => failed.push(...indexes)),
    ...deliveries.map(async (d) => {
      try {
        await enqueueDelivery({ agencyId: d.agencyId, deliveryId: d.deliveryId, attempt: 1 });
      } catch (err) {
        logger.warn('could not queue a webhook delivery', { deliveryId: d.deliveryId, error: (err as Error).message });
        failed.push(d.index);
      }
    }),
    ...latestChanges(changes).map(async (change) => {
      try {
        await judgeBalance(change);
      } catch (err) {
        logger.warn('could not judge a balance for auto top-up or alerts', {
          accountId: change.accountId,
          error: (err as Error).message,
        });
        failed.push(change.index);
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

/**
 * A record that may have taken a wallet down: its item going down (the balance, exact, when no
 * lane holds part of it), or a debit of one of its lanes (lanes.ts: the balance is then its item
 * plus its lanes, read when judged).
 */
function walletDrop(record: DynamoDBRecord, item: Record<string, unknown>) {
  const at = new Date();
  if (item.kind === 'lane' && item.scope === 'W') {
    const subAccountId = accountIdOf(String(item.headPk));
    return { subAccountId, agencyId: String(item.agencyId), balance: undefined, at };
  }
  if (item.kind !== 'balance' || item.sk !== 'WALLET' || record.eventName !== 'MODIFY') return undefined;
  const before = unmarshall((record.dynamodb?.OldImage ?? {}) as never) as { balance?: number };
  const balance = Number(item.balance);
  if (!(balance < Number(before.balance ?? Number.POSITIVE_INFINITY))) return undefined; // credits in: never a trigger
  const exact = !item.lanesOpen;
  return {
    subAccountId: accountIdOf(String(item.pk)),
    agencyId: String(item.agencyId),
    balance: exact ? balance : undefined,
    at: new Date(String(item.updatedAt)),
  };
}

async function judgeDrop(
  subAccountId: string,
  drop: { agencyId: string; balance: number | undefined; at: Date },
): Promise<OpenOutcome> {
  const keys = [accountKey(subAccountId), accountKey(drop.agencyId), resellingSettingsKey(drop.agencyId)];
  const [found, exact] = await Promise.all([
    getItems(keys),
    drop.balance === undefined ? exactBalance(walletKey(subAccountId)) : undefined,
  ]);
  const [subKey, agencyKey, settingsKey] = keys as [Key, Key, Key];
  const sub = foundItem(found, subKey, subAccountShape);
  const agency = foundItem(found, agencyKey, agencyShape);
  if (!sub || !agency) return 'off';
  return openRechargeRequest({
    sub,
    agency,
    settings: foundItem(found, settingsKey, resellingSettingsShape),
    balance: drop.balance ?? exact?.balance ?? 0,
    at: drop.at,
  });
}
