import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { db, table } from '../client';
import { conditionFailed, ifConditionHolds } from '../conditions';
import { itemShape } from '../item-shape';
import { itemKinds, type Key, keyPrefixes, stored } from '../schema';

/**
 * An agency's webhook deliveries in flight (`WEBHOOK#<agency>` / `SENDING`): holder token →
 * lease end (epoch ms), at most `cap` holders. A map, not a counter: a counter cannot tell
 * which increment belonged to a sender that died, so a crash would leak its slot for good;
 * here a holder whose lease ran out is simply replaced. One item per agency, kept (a TTL a
 * day after the last lease removes it), so the usual take and give back are one write each.
 */
export interface WebhookSlotsItem {
  kind: typeof itemKinds.webhookSlots;
  holders: Record<string, number>;
  ttl: number;
}
const slotsShape = itemShape<WebhookSlotsItem>(itemKinds.webhookSlots, { holders: 'object' });

const slotsKey = (agencyId: string): Key => ({ pk: `${keyPrefixes.webhook}${agencyId}`, sk: 'SENDING' });
const DAY_SECONDS = 24 * 60 * 60;
const ttlAfter = (leaseUntil: number) => Math.ceil(leaseUntil / 1000) + DAY_SECONDS;

/**
 * Takes one of the agency's `cap` slots for `token` until `leaseUntil`; false when all are held
 * by live leases. Each round is one conditional write; a round lost to another sender's write
 * is tried again (three rounds, then "no slot": the caller waits a little and asks again).
 */
export async function takeSlot(agencyId: string, token: string, cap: number, nowMs: number, leaseUntil: number) {
  const Key = slotsKey(agencyId);
  for (let round = 0; round < 3; round++) {
    let holders: Record<string, number> | undefined;
    try {
      await db.send(
        new UpdateCommand({
          TableName: table(),
          Key,
          UpdateExpression: 'SET holders.#token = :until, #ttl = :ttl',
          ConditionExpression: 'size(holders) < :cap',
          ExpressionAttributeNames: { '#token': token, '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':until': leaseUntil, ':ttl': ttlAfter(leaseUntil), ':cap': cap },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return true;
    } catch (err) {
      if (!conditionFailed(err)) throw err;
      const raw = (err as { Item?: Parameters<typeof unmarshall>[0] }).Item;
      holders = raw ? slotsShape.parse(unmarshall(raw)).holders : undefined;
    }
    if (!holders) {
      // The agency's first delivery (or the first after a quiet day): the item, with this holder.
      const item: WebhookSlotsItem = {
        kind: itemKinds.webhookSlots,
        holders: { [token]: leaseUntil },
        ttl: ttlAfter(leaseUntil),
      };
      const put = new PutCommand({
        TableName: table(),
        Item: stored(item, Key),
        ConditionExpression: 'attribute_not_exists(pk)',
      });
      if (await ifConditionHolds(db.send(put))) return true;
      continue;
    }
    const lapsed = Object.entries(holders).find(([, until]) => until < nowMs);
    if (!lapsed) return false;
    // Full, but one holder's lease ran out (its sender died or was stopped): take its place.
    const replaced = await ifConditionHolds(
      db.send(
        new UpdateCommand({
          TableName: table(),
          Key,
          UpdateExpression: 'REMOVE holders.#gone SET holders.#token = :until, #ttl = :ttl',
          ConditionExpression: 'holders.#gone = :goneUntil',
          ExpressionAttributeNames: { '#gone': lapsed[0], '#token': token, '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':goneUntil': lapsed[1], ':until': leaseUntil, ':ttl': ttlAfter(leaseUntil) },
        }),
      ),
    );
    if (replaced) return true;
  }
  return false;
}

/** Gives the slot back; nothing when it is not held any more (its lease ran out and another sender took it). */
export async function releaseSlot(agencyId: string, token: string): Promise<void> {
  await ifConditionHolds(
    db.send(
      new UpdateCommand({
        TableName: table(),
        Key: slotsKey(agencyId),
        UpdateExpression: 'REMOVE holders.#token',
        ConditionExpression: 'attribute_exists(holders.#token)',
        ExpressionAttributeNames: { '#token': token },
      }),
    ),
  );
}
