import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { db, table } from '../client';
import { conditionFailed, ifConditionHolds } from '../conditions';
import { itemShape } from '../item-shape';
import { itemKinds, type Key, keyPrefixes, stored } from '../schema';

/**
 * Attempts counted in a fixed window that opens with the first attempt: `attempts` taken since
 * `windowStart` (ms). The item expires (ttl) when its window does, so nothing lingers.
 */
export interface ThrottleItem {
  kind: typeof itemKinds.throttle;
  windowStart: number;
  attempts: number;
  ttl: number;
}
const throttleShape = itemShape<ThrottleItem>(itemKinds.throttle, { windowStart: 'number', attempts: 'number' });

export const throttleKey = (name: string, subject: string): Key => ({
  pk: `${keyPrefixes.throttle}${name}#${subject}`,
  sk: 'THROTTLE',
});

export type TakeOutcome = { taken: true } | { taken: false; windowStart: number | undefined };

/** One more attempt in a live window with room; else says why not (full, or no live window). */
export async function addAttempt(key: Key, max: number, cutoffMs: number): Promise<TakeOutcome> {
  try {
    await db.send(
      new UpdateCommand({
        TableName: table(),
        Key: key,
        UpdateExpression: 'ADD attempts :one',
        ConditionExpression: 'windowStart > :cutoff AND attempts < :max',
        ExpressionAttributeValues: { ':one': 1, ':cutoff': cutoffMs, ':max': max },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { taken: true };
  } catch (err) {
    if (!conditionFailed(err)) throw err;
    const raw = (err as { Item?: Parameters<typeof unmarshall>[0] }).Item;
    const old = raw ? throttleShape.parse(unmarshall(raw)) : undefined;
    return { taken: false, windowStart: old && old.windowStart > cutoffMs ? old.windowStart : undefined };
  }
}

/** Opens a new window with one attempt, unless another request opened one meanwhile (false). */
export async function openWindow(key: Key, nowMs: number, windowMs: number, cutoffMs: number): Promise<boolean> {
  const item: ThrottleItem = {
    kind: itemKinds.throttle,
    windowStart: nowMs,
    attempts: 1,
    ttl: Math.ceil((nowMs + windowMs) / 1000) + 60,
  };
  const written = await ifConditionHolds(
    db.send(
      new PutCommand({
        TableName: table(),
        Item: stored(item, key),
        ConditionExpression: 'attribute_not_exists(pk) OR windowStart <= :cutoff',
        ExpressionAttributeValues: { ':cutoff': cutoffMs },
      }),
    ),
  );
  return written !== undefined;
}

export async function deleteThrottle(key: Key): Promise<void> {
  await db.send(new DeleteCommand({ TableName: table(), Key: key }));
}
