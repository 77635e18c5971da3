import { BatchGetCommand, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Feature, Plan } from '../domain/features';
import { db, table } from './client';
import { decodeCursor, encodeCursor, foreignCursor, rejectForeignCursor } from './cursor';
import { type itemKinds, type Key, keys, tableDefinition } from './schema';

export type AccountStatus = 'active' | 'closed';
export type CreditMode = 'manual' | 'reselling';

export interface Address {
  line1?: string;
  line2?: string;
  city?: string;
  region?: string;
  postalCode?: string;
  country?: string;
}

/** An agency or a sub-account. For an agency, `agencyId === id`. */
export interface AccountItem {
  kind: typeof itemKinds.account;
  id: string;
  type: 'agency' | 'sub_account';
  agencyId: string;
  name: string;
  email?: string;
  phone?: string;
  timezone?: string;
  website?: string;
  address?: Address;
  /** Agencies only. */
  plan?: Plan;
  features: Feature[];
  status: AccountStatus;
  creditMode?: CreditMode;
  /** Sub-accounts in manual mode: credits they may draw from the pool per UTC month. */
  monthlyCreditLimit?: number;
  /** The monthly meter: the month it counts, credits used, and limit − pool credits used while a limit is set. */
  meterMonth?: string;
  meterUsed?: number;
  /** The part of meterUsed drawn from the agency pool (manual mode): what the limit counts. */
  meterPoolUsed?: number;
  meterRemaining?: number;
  createdAt: string;
  updatedAt: string;
  closedAt?: string;
}

export interface UserItem {
  kind: typeof itemKinds.user;
  id: string;
  email: string;
  name?: string;
  passwordHash: string;
  accountId: string;
  accountType: 'agency' | 'sub_account';
  agencyId: string;
  createdAt: string;
  passwordChangedAt?: string;
}

export async function getItem<T>(key: Key): Promise<T | undefined> {
  const out = await db.send(new GetCommand({ TableName: table(), Key: key, ConsistentRead: true }));
  return out.Item as T | undefined;
}

export const getAccount = (accountId: string) => getItem<AccountItem>(keys.account(accountId));
export const getUser = (userId: string) => getItem<UserItem>(keys.user(userId));

/** Several items in one round trip, keyed back by pk+sk; missing ones are absent. */
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
export const itemId = (key: Key) => `${key.pk}|${key.sk}`;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A page of a gsi1 partition in key order. */
export async function queryIndexPage<T>(
  partition: { gsi1pk: string },
  opts: { limit: number; cursor?: string; newestFirst?: boolean; beginsWith?: string },
): Promise<Page<T>> {
  const ix = tableDefinition.indexes[0];
  const startKey = decodeCursor(opts.cursor);
  // A cursor must come from this very list: refuse one from another partition outright.
  if (startKey && startKey[ix.partitionKey] !== partition.gsi1pk) throw foreignCursor();
  const out = await db
    .send(
      new QueryCommand({
        TableName: table(),
        IndexName: ix.name,
        KeyConditionExpression: opts.beginsWith ? '#pk = :pk AND begins_with(#sk, :prefix)' : '#pk = :pk',
        ExpressionAttributeNames: { '#pk': ix.partitionKey, ...(opts.beginsWith ? { '#sk': ix.sortKey } : {}) },
        ExpressionAttributeValues: { ':pk': partition.gsi1pk, ...(opts.beginsWith ? { ':prefix': opts.beginsWith } : {}) },
        Limit: opts.limit,
        ScanIndexForward: !opts.newestFirst,
        ExclusiveStartKey: startKey,
      }),
    )
    .catch(rejectForeignCursor(opts.cursor));
  return { items: (out.Items ?? []) as T[], nextCursor: encodeCursor(out.LastEvaluatedKey) };
}

/** Every item of a gsi1 partition (small partitions only: an account's users). */
export async function queryIndexAll<T>(partition: { gsi1pk: string }): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await queryIndexPage<T>(partition, { limit: 200, cursor });
    all.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return all;
}
