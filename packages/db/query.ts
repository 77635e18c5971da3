import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { db, table } from './client';
import { decodeCursor, encodeCursor, foreignCursor } from './cursor';
import type { ItemShape } from './item-shape';
import { type IndexName, indexNamed, tableDefinition } from './schema';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface QuerySpec {
  /** Query an index instead of the table (`true`: the generic gsi1). */
  index?: boolean | IndexName;
  /** The partition key value (pk, or gsi1pk on the index). */
  partition: string;
  /** A key condition on the sort key (sk, or gsi1sk). */
  sort?: { beginsWith: string } | { between: [string, string] };
  /** A filter DynamoDB applies as it reads; items it drops still cost reads (see `maxReads`). */
  filter?: { expression: string; names?: Record<string, string>; values?: Record<string, unknown> };
  limit: number;
  cursor?: string;
  newestFirst?: boolean;
  /** Strongly consistent reads (the table only; an index is always eventually consistent). */
  consistent?: boolean;
  /** With a filter, a page may need several reads: stop after this many and hand back a cursor. */
  maxReads?: number;
  /** Only these attributes of each item (DynamoDB still bills the whole item's size). */
  attributes?: readonly string[];
}

/**
 * The one paged query: a page of one partition in key order, resumable by an opaque cursor,
 * each item parsed as `shape` says (a malformed one throws `MalformedItem`).
 * A cursor must come from this very list (same partition, same key attributes, inside the
 * sort condition); any other is a 400, never a page of someone else's list.
 */
export async function queryPage<T>(spec: QuerySpec, shape: ItemShape<T>): Promise<Page<T>> {
  const ix = indexNamed(spec.index === true || !spec.index ? 'gsi1' : spec.index);
  const pkName = spec.index ? ix.partitionKey : tableDefinition.partitionKey;
  const skName = spec.index ? ix.sortKey : tableDefinition.sortKey;
  let startKey = decodeCursor(spec.cursor);
  if (startKey) assertOwnCursor(startKey, spec, pkName, skName);

  const names: Record<string, string> = { '#pk': pkName, ...spec.filter?.names };
  const projection = spec.attributes?.map((a, i) => {
    names[`#p${i}`] = a;
    return `#p${i}`;
  });
  const values: Record<string, unknown> = { ':pk': spec.partition, ...spec.filter?.values };
  let condition = '#pk = :pk';
  if (spec.sort) {
    names['#sk'] = skName;
    if ('beginsWith' in spec.sort) {
      condition += ' AND begins_with(#sk, :prefix)';
      values[':prefix'] = spec.sort.beginsWith;
    } else {
      condition += ' AND #sk BETWEEN :from AND :to';
      [values[':from'], values[':to']] = spec.sort.between;
    }
  }

  const items: T[] = [];
  const maxReads = spec.filter ? (spec.maxReads ?? 10) : 1;
  for (let read = 0; read < maxReads && items.length < spec.limit; read++) {
    const out = await db.send(
      new QueryCommand({
        TableName: table(),
        IndexName: spec.index ? ix.name : undefined,
        KeyConditionExpression: condition,
        FilterExpression: spec.filter?.expression,
        ProjectionExpression: projection?.join(', '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        Limit: spec.limit - items.length,
        ScanIndexForward: !spec.newestFirst,
        ExclusiveStartKey: startKey,
        ConsistentRead: spec.index ? undefined : spec.consistent,
      }),
    );
    for (const item of out.Items ?? []) items.push(shape.parse(item));
    startKey = out.LastEvaluatedKey as Record<string, string> | undefined;
    if (!startKey) break;
  }
  return { items, nextCursor: encodeCursor(startKey) };
}

/**
 * A cursor that resumes a list right after `item`, one of the items the list returned (its key
 * attributes are what DynamoDB's own LastEvaluatedKey would hold there): for a caller that
 * stops inside a page.
 */
export function cursorAfter(item: object, index: boolean | IndexName): string {
  const ix = indexNamed(index === true || !index ? 'gsi1' : index);
  const names = [tableDefinition.partitionKey, tableDefinition.sortKey, ...(index ? [ix.partitionKey, ix.sortKey] : [])];
  const record = item as Record<string, unknown>;
  return encodeCursor(Object.fromEntries(names.map((n) => [n, record[n]]))) as string;
}

/** Every item of a small partition, page by page. */
export const queryAll = <T>(spec: Omit<QuerySpec, 'limit' | 'cursor'>, shape: ItemShape<T>): Promise<T[]> =>
  queryAllPages((cursor) => queryPage({ ...spec, limit: 200, cursor }, shape));

/** Walks a paged list to its end (small lists only: the caller bounds it). */
export async function queryAllPages<T>(page: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  do {
    const next = await page(cursor);
    all.push(...next.items);
    cursor = next.nextCursor ?? undefined;
  } while (cursor);
  return all;
}

function assertOwnCursor(start: Record<string, string>, spec: QuerySpec, pkName: string, skName: string): void {
  const expected = new Set([tableDefinition.partitionKey, tableDefinition.sortKey, pkName, skName]);
  const attrs = Object.keys(start);
  const sk = start[skName];
  const inRange =
    sk !== undefined &&
    (!spec.sort ||
      ('beginsWith' in spec.sort
        ? sk.startsWith(spec.sort.beginsWith)
        : sk >= spec.sort.between[0] && sk <= spec.sort.between[1]));
  if (start[pkName] !== spec.partition || attrs.length !== expected.size || !attrs.every((a) => expected.has(a)) || !inRange) {
    throw foreignCursor();
  }
}
