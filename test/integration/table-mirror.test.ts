/**
 * The test stack's copy of the table (packages/local/table-mirror.ts), which the tests' item
 * snapshots read instead of scanning the shared table: it must say what the table holds, at
 * once. Items are written straight to the table here and read back the table's own way (a
 * Query of their partition, consistent), then asked of the mirror immediately after the write
 * was acknowledged: a put, an update, a transaction, a delete, and the items a request wrote.
 */
import { randomBytes } from 'node:crypto';
import { DeleteCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { tableMirror } from '#local/table-mirror';
import { signUpAgency } from '../support/api';
import { stack } from '../support/stack';
import { itemsMentioning, snapshotOf, testDb } from '../support/table';

const TableName = stack.tableName;
const marker = () => `mirror-${randomBytes(6).toString('hex')}`;

/** The partition as the table holds it, consistently read, sorted by key (the mirror's order). */
async function partition(pk: string) {
  const out = await testDb.send(
    new QueryCommand({
      TableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}

describe('the table mirror', () => {
  it('holds each write as soon as it is acknowledged: put, update, transaction, delete', async () => {
    const m = marker();
    const pk = `TEST#${m}`;
    await testDb.send(
      new PutCommand({ TableName, Item: { pk, sk: 'a', kind: 'test', note: m, n: 1, empty: {}, inner: { empty: {} } } }),
    );
    expect(await itemsMentioning(m)).toEqual(await partition(pk));
    expect(await itemsMentioning(m)).toHaveLength(1);

    await testDb.send(
      new UpdateCommand({
        TableName,
        Key: { pk, sk: 'a' },
        UpdateExpression: 'SET n = n + :one, nested = :nested',
        ExpressionAttributeValues: { ':one': 1, ':nested': { list: [1, 'two', null, true] } },
      }),
    );
    await testDb.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName, Item: { pk, sk: 'b', kind: 'test' } } },
          { Put: { TableName, Item: { pk: `TEST#other-${m}`, sk: 'c', kind: 'test', points: `${pk}/b` } } },
        ],
      }),
    );
    const afterWrites = await itemsMentioning(m);
    expect(afterWrites).toEqual([...(await partition(pk)), ...(await partition(`TEST#other-${m}`))]);
    expect(afterWrites.map((i) => [i.sk, i.n])).toEqual([
      ['a', 2],
      ['b', undefined],
      ['c', undefined],
    ]);
    // Empty maps too (the streams client reads one back as no value at all: the mirror restores it).
    expect(afterWrites[0]).toMatchObject({ empty: {}, inner: { empty: {} }, nested: { list: [1, 'two', null, true] } });

    await testDb.send(new DeleteCommand({ TableName, Key: { pk, sk: 'a' } }));
    expect((await itemsMentioning(m)).map((i) => i.sk)).toEqual(['b', 'c']);
  });

  it('finds every item mentioning any of several ids, anywhere in the item', async () => {
    const [x, y] = [marker(), marker()];
    await Promise.all([
      testDb.send(new PutCommand({ TableName, Item: { pk: `TEST#${x}`, sk: '1', kind: 'test' } })),
      testDb.send(new PutCommand({ TableName, Item: { pk: 'TEST#elsewhere', sk: y, kind: 'test' } })),
      testDb.send(
        new PutCommand({ TableName, Item: { pk: `TEST#${marker()}`, sk: '1', kind: 'test', deep: { in: [{ a: y }] } } }),
      ),
    ]);
    const found = await snapshotOf([x, y]);
    expect(found).toHaveLength(3);
    expect(found.every((i) => JSON.stringify(i).includes(x) || JSON.stringify(i).includes(y))).toBe(true);
  });

  it('holds what a request wrote when its answer arrives (a sign-up: account, user, email address)', async () => {
    const agency = await signUpAgency('starter', { verifyEmail: false });
    const kinds = (await itemsMentioning(agency.agencyId)).map((i) => i.kind);
    expect(kinds).toEqual(expect.arrayContaining(['account', 'user']));
  });

  it('refuses a question without ids', async () => {
    const ask = (body: string) =>
      fetch(`${stack.statusUrl}/table/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    for (const body of ['{}', '{"mentioning":[]}', '{"mentioning":[""]}', '{"mentioning":"x"}', 'not json']) {
      const res = await ask(body);
      expect([body, res.status]).toEqual([body, 400]);
    }
  });
});

describe('the mirror by itself', () => {
  const record = (eventName: string, item: Record<string, unknown>) => ({
    eventName,
    dynamodb: {
      Keys: { pk: { S: String(item.pk) }, sk: { S: String(item.sk) } },
      NewImage:
        eventName === 'REMOVE' ? undefined : Object.fromEntries(Object.entries(item).map(([k, v]) => [k, { S: String(v) }])),
    },
  });

  it('answers only after a pass of its reader that began after the question', async () => {
    const mirror = tableMirror();
    const status = { passes: 3, caughtUpThrough: 3, handled: 0 };
    let wakes = 0;
    mirror.attach({ status: () => ({ ...status }), wake: () => void wakes++ });
    await mirror.poller.handler({ Records: [record('INSERT', { pk: 'P', sk: '1', v: 'x' })] });
    let answered = false;
    const answer = mirror.mentioning(['x']).then((items) => {
      answered = true;
      return items;
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(answered).toBe(false); // pass 3 began before the question
    expect(wakes).toBeGreaterThan(0);
    status.passes = 4;
    await new Promise((r) => setTimeout(r, 30));
    expect(answered).toBe(false); // pass 4 has begun, not ended caught up
    status.caughtUpThrough = 4;
    expect(await answer).toEqual([{ pk: 'P', sk: '1', v: 'x' }]);
  });

  it('forgets everything when the table has a new stream or a new reader, and applies removes', async () => {
    const mirror = tableMirror();
    const reader = { status: () => ({ passes: 1, caughtUpThrough: 2, handled: 0 }), wake: () => undefined };
    mirror.attach(reader);
    await mirror.poller.handler({
      Records: [record('INSERT', { pk: 'P', sk: '1', v: 'x' }), record('INSERT', { pk: 'P', sk: '2', v: 'x' })],
    });
    await mirror.poller.handler({ Records: [record('REMOVE', { pk: 'P', sk: '1' })] });
    expect((await mirror.mentioning(['x'])).map((i) => i.sk)).toEqual(['2']);
    mirror.poller.onNewStream();
    expect(await mirror.mentioning(['x'])).toEqual([]);
    await mirror.poller.handler({ Records: [record('INSERT', { pk: 'P', sk: '3', v: 'x' })] });
    mirror.attach(reader);
    expect(await mirror.mentioning(['x'])).toEqual([]);
  });
});
