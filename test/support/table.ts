import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { stack } from './stack';

/** Direct table access, to check what a request did (or did not) write. */
export const testDb = DynamoDBDocumentClient.from(
  new DynamoDBClient({
    endpoint: stack.dynamoEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  }),
);

export async function getRaw(pk: string, sk: string) {
  const out = await testDb.send(new GetCommand({ TableName: stack.tableName, Key: { pk, sk }, ConsistentRead: true }));
  return out.Item;
}

/** Every audit record of the agency, as stored (oldest first), its changes' JSON text read back as `changes`. */
export async function auditRecordsOf(agencyId: string): Promise<Record<string, any>[]> {
  const found: Record<string, any>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await testDb.send(
      new QueryCommand({
        TableName: stack.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `AUDIT#${agencyId}` },
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
    found.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return found.map((r) => (typeof r.changesJson === 'string' ? { ...r, changes: JSON.parse(r.changesJson) } : r));
}

/** Every item that mentions `needle` anywhere (ids are unique per test, so this finds a tenant's items). */
export async function itemsMentioning(needle: string): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await testDb.send(
      new ScanCommand({ TableName: stack.tableName, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    for (const item of out.Items ?? []) if (JSON.stringify(item).includes(needle)) found.push(item);
    start = out.LastEvaluatedKey;
  } while (start);
  return found;
}

/** Every item that mentions any of `needles`, sorted by key: a snapshot to deep-compare before and after. */
export async function snapshotOf(needles: string[]): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await testDb.send(
      new ScanCommand({ TableName: stack.tableName, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    for (const item of out.Items ?? []) {
      const text = JSON.stringify(item);
      if (needles.some((n) => text.includes(n))) found.push(item);
    }
    start = out.LastEvaluatedKey;
  } while (start);
  const key = (item: Record<string, unknown>) => `${item.pk}\u0000${item.sk}`;
  return found.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** A count of all items, for "nothing was written" checks. */
export async function countItems(): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const out = await testDb.send(
      new ScanCommand({ TableName: stack.tableName, Select: 'COUNT', ExclusiveStartKey: start, ConsistentRead: true }),
    );
    count += out.Count ?? 0;
    start = out.LastEvaluatedKey;
  } while (start);
  return count;
}
