import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
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

/**
 * Every item that mentions any of `needles` anywhere (ids are unique per test, so this finds a
 * tenant's items), sorted by key, holding every write acknowledged before the call. Answered
 * by the test stack's copy of the table, kept from its stream (packages/local/table-mirror.ts):
 * a Scan of the table the whole suite shares takes seconds once the suite has filled it.
 */
export async function snapshotOf(needles: string[]): Promise<Record<string, unknown>[]> {
  if (!stack.statusUrl) throw new Error('the test stack serves no table mirror (statusUrl is null)');
  const res = await fetch(`${stack.statusUrl}/table/items`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mentioning: needles }),
  });
  const body = (await res.json()) as { items?: Record<string, unknown>[]; error?: string };
  if (!res.ok || !body.items) throw new Error(`table mirror: ${res.status} ${body.error ?? ''}`);
  return body.items;
}

/** Every item that mentions `needle` anywhere, sorted by key. */
export const itemsMentioning = (needle: string) => snapshotOf([needle]);
