/**
 * The local runtime enforces each function's table keys as its deployed IAM policy does
 * (`dynamodb:LeadingKeys`, packages/db/access.ts): a call naming a partition outside its
 * function's prefixes fails with AccessDenied, here as it would on AWS. Every test that goes
 * through the local stack therefore runs under the deployed policies.
 */
import { GetCommand, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { newId } from '#core/ids';
import { db, table } from '#db/client';
import { accountKey, accountShape } from '#db/items/account';
import { outboxKey, outboxShape } from '#db/items/outbox';
import { getItem } from '#db/read';
import { tableKeyPrefixes } from '#http/functions';
import { asFunction, enforceTableAccess } from '#local/table-access';
import '../support/stack';

beforeAll(() => enforceTableAccess());

const denied = { name: 'AccessDeniedException' };

describe('local table access, as the deployed policies grant it', () => {
  it('lets a function read and write the partitions its prefixes name', async () => {
    await expect(asFunction('notifier', () => getItem(outboxKey(newId('outbox')), outboxShape))).resolves.toBeUndefined();
    await expect(asFunction('campaigns', () => getItem(accountKey(newId('agency')), accountShape))).resolves.toBeUndefined();
  });

  it('refuses any other partition, for reads, writes and queries', async () => {
    await expect(asFunction('notifier', () => getItem(accountKey(newId('agency')), accountShape))).rejects.toMatchObject(denied);
    await expect(asFunction('campaigns', () => getItem(outboxKey(newId('outbox')), outboxShape))).rejects.toMatchObject(denied);
    await expect(
      asFunction('usage', () =>
        db.send(new PutCommand({ TableName: table(), Item: { pk: `OUTBOX#${newId('outbox')}`, sk: 'OUTBOX' } })),
      ),
    ).rejects.toMatchObject(denied);
    await expect(
      asFunction('credits', () =>
        db.send(
          new QueryCommand({
            TableName: table(),
            KeyConditionExpression: '#p = :v',
            ExpressionAttributeNames: { '#p': 'pk' },
            ExpressionAttributeValues: { ':v': 'OUTBOX#x' },
          }),
        ),
      ),
    ).rejects.toMatchObject(denied);
  });

  it('refuses every table call of a function given none, and every scan', async () => {
    expect(tableKeyPrefixes.docs).toEqual([]);
    await expect(asFunction('docs', () => getItem(accountKey(newId('agency')), accountShape))).rejects.toMatchObject(denied);
    await expect(asFunction('credits', () => db.send(new ScanCommand({ TableName: table(), Limit: 1 })))).rejects.toMatchObject(
      denied,
    );
  });

  it('does not narrow index queries (granted by index), nor code outside any function', async () => {
    await expect(
      asFunction('campaigns', () =>
        db.send(
          new QueryCommand({
            TableName: table(),
            IndexName: 'gsi1',
            KeyConditionExpression: 'gsi1pk = :v',
            ExpressionAttributeValues: { ':v': 'ANYTHING#x' },
          }),
        ),
      ),
    ).resolves.toBeDefined();
    await expect(db.send(new GetCommand({ TableName: table(), Key: outboxKey(newId('outbox')) }))).resolves.toBeDefined();
  });
});
