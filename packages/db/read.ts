import { BatchGetCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { db, table } from './client';
import { type ItemShape, parseFound } from './item-shape';
import { type Key, keyPrefixes } from './schema';

/** One item by key, strongly consistent, parsed as its kind (a malformed one throws `MalformedItem`). */
export async function getItem<T>(key: Key, shape: ItemShape<T>): Promise<T | undefined> {
  const out = await db.send(new GetCommand({ TableName: table(), Key: key, ConsistentRead: true }));
  return parseFound(shape, out.Item);
}

export const itemId = (key: Key) => `${key.pk}|${key.sk}`;

/** The item of `key` among those `getItems` found, parsed as its kind. */
export const foundItem = <T>(found: Map<string, Record<string, unknown>>, key: Key, shape: ItemShape<T>): T | undefined =>
  parseFound(shape, found.get(itemId(key)));

/** Several items in one round trip, keyed back by `itemId`; missing ones are absent. */
export async function getItems(list: Key[]): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  let request: Key[] = list;
  for (let attempt = 0; request.length > 0 && attempt < 5; attempt++) {
    const out = await db.send(new BatchGetCommand({ RequestItems: { [table()]: { Keys: request, ConsistentRead: true } } }));
    for (const item of out.Responses?.[table()] ?? []) found.set(`${item.pk}|${item.sk}`, item);
    request = (out.UnprocessedKeys?.[table()]?.Keys as Key[] | undefined) ?? [];
  }
  if (request.length > 0) throw new Error('BatchGet left keys unprocessed');
  return found;
}

/** Readiness: one strongly consistent read of a key nothing uses. Throws what the SDK throws when the table is unreachable. */
export async function tableAnswers(): Promise<void> {
  await db.send(
    new GetCommand({ TableName: table(), Key: { pk: keyPrefixes.readiness, sk: keyPrefixes.readiness }, ConsistentRead: true }),
  );
}
