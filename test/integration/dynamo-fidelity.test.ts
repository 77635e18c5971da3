import {
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactGetItemsCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { localCredentials, localRegion } from '#local/aws-env';
import { defaultFidelity } from '#local/dynamo-fidelity/options';
import { type FidelityProxy, startFidelityProxy } from '#local/dynamo-fidelity/proxy';
import { uniq, waitFor } from '../support/api';
import { stack } from '../support/stack';

/**
 * The DynamoDB fidelity proxy (packages/local/dynamo-fidelity) in front of the test stack's
 * DynamoDB Local, one AWS rule per test: transaction conflicts between writes in flight,
 * what AWS bills for a known sequence of writes, and the per-key throughput limit. Writes are
 * held in flight for a fixed 1.5 s where a test needs one to overlap another, and the test
 * waits until the proxy holds it before sending the other: no timing luck involved.
 */
let proxy: FidelityProxy;
let db: DynamoDBClient;
const direct = new DynamoDBClient({ endpoint: stack.dynamoEndpoint, region: localRegion, credentials: localCredentials });
const T = stack.tableName;

beforeAll(async () => {
  proxy = await startFidelityProxy({ target: stack.dynamoEndpoint, settings: { latency: false } });
  // One attempt per call: the SDK would retry throttling, and these tests look at each answer.
  db = new DynamoDBClient({ endpoint: proxy.url, region: localRegion, credentials: localCredentials, maxAttempts: 1 });
});
afterAll(() => {
  db?.destroy();
  direct.destroy();
  proxy?.server.close();
  proxy?.server.closeAllConnections();
});
beforeEach(async () => {
  proxy.configure({ ...defaultFidelity, latency: false });
  await proxy.reset();
});

/** Every write held for 1.5 s (φ = 1 of a fixed latency). */
const HOLD = {
  latency: true,
  phi: 1,
  model: { transactionMs: 1500, transactionPerItemMs: 0, transactionSigma: 0, singleMs: 1500, singleSigma: 0 },
};
const heldItems = (n: number) => waitFor(async () => (await proxy.stats()).inFlight >= n, 10_000, `${n} items in flight`);

const key = (pk: string) => ({ pk: { S: pk }, sk: { S: 'x' } });
const setV = (pk: string, v: string): TransactWriteItem => ({
  Update: { TableName: T, Key: key(pk), UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': { S: v } } },
});
const put = (pk: string, extra: Record<string, AttributeValue> = {}): TransactWriteItem => ({
  Put: { TableName: T, Item: { ...key(pk), ...extra } },
});
const transact = (...items: TransactWriteItem[]) => db.send(new TransactWriteItemsCommand({ TransactItems: items }));
const read = async (pk: string) =>
  (await direct.send(new GetItemCommand({ TableName: T, Key: key(pk), ConsistentRead: true }))).Item;

/** A call as any client puts it on the wire (DynamoDB Local wants a signature header, not a valid one). */
async function raw(operation: string, input: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(proxy.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDB_20120810.${operation}`,
      authorization:
        'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: JSON.stringify(input),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('DynamoDB fidelity: transaction conflicts', () => {
  it('cancels a transaction that touches an item another transaction holds, TransactionConflict on that item, as DynamoDB answers it', async () => {
    proxy.configure(HOLD);
    const [x, other] = [uniq('FID'), uniq('FID')];
    const first = transact(setV(x, 'first'));
    await heldItems(1);

    const second = await raw('TransactWriteItems', { TransactItems: [put(other), setV(x, 'second')] });
    expect(second).toEqual({
      status: 400,
      body: {
        __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
        CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' }],
        Message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]',
      },
    });
    await first;
    expect((await read(x))?.v).toEqual({ S: 'first' });
    expect(await read(other)).toBeUndefined();
    // Billed all the same, and counted as a conflict.
    const { totals } = await proxy.stats();
    expect(totals).toMatchObject({ transactions: 2, billedWriteAttempts: 2, cancelled: 1, conflicts: 1 });
    // Named by what it wrote, ids blanked (the bench's "failed:" line).
    expect(totals.failedByShape).toEqual({ [[`${other} x`, `${x} x`].sort().join(' + ')]: 1 });
  });

  it('cancels a transaction that touches an item a single write holds', async () => {
    proxy.configure(HOLD);
    const x = uniq('FID');
    const single = db.send(new PutItemCommand({ TableName: T, Item: { ...key(x), v: { S: 'single' } } }));
    await heldItems(1);
    const cancelled = await transact(setV(x, 'tx')).catch((e: Error) => e);
    expect(cancelled).toMatchObject({
      name: 'TransactionCanceledException',
      CancellationReasons: [{ Code: 'TransactionConflict' }],
    });
    await single;
    expect((await read(x))?.v).toEqual({ S: 'single' });
  });

  it('fails a single write to an item a transaction holds with TransactionConflictException, and a TransactGetItems of it', async () => {
    // The transaction held for 1.5 s, the calls that meet it answered at once.
    proxy.configure({ ...HOLD, model: { ...HOLD.model, singleMs: 0 } });
    const x = uniq('FID');
    const first = transact(setV(x, 'tx'));
    await heldItems(1);
    await expect(
      db.send(
        new UpdateItemCommand({
          TableName: T,
          Key: key(x),
          UpdateExpression: 'SET v = :v',
          ExpressionAttributeValues: { ':v': { S: 'single' } },
        }),
      ),
    ).rejects.toMatchObject({ name: 'TransactionConflictException', message: 'Transaction is ongoing for the item' });
    await expect(
      db.send(new TransactGetItemsCommand({ TransactItems: [{ Get: { TableName: T, Key: key(x) } }] })),
    ).rejects.toMatchObject({
      name: 'TransactionCanceledException',
      CancellationReasons: [{ Code: 'TransactionConflict' }],
    });
    // A plain read never conflicts.
    await expect(db.send(new GetItemCommand({ TableName: T, Key: key(x) }))).resolves.toBeDefined();
    await first;
    expect((await read(x))?.v).toEqual({ S: 'tx' });
  });

  it('has an item free by the time its writer has the answer: its next write never meets its own last one', async () => {
    // Short holds that end when the answer is due: each is released before its answer, not after it.
    proxy.configure({ ...HOLD, model: { ...HOLD.model, transactionMs: 5, singleMs: 0 } });
    const x = uniq('FID');
    const met: string[] = [];
    for (let i = 0; i < 40; i++) {
      await transact(setV(x, `tx${i}`));
      await db
        .send(new PutItemCommand({ TableName: T, Item: { ...key(x), v: { S: `put${i}` } } }))
        .catch((e: Error) => met.push(e.name));
    }
    expect(met).toEqual([]);
    expect((await read(x))?.v).toEqual({ S: 'put39' });
  });

  it('a single write that met a transaction goes through on a later try (db/conflict-retry.ts)', async () => {
    const { retryingConflicts, conflictRetryPolicy, conflictRetryStats } = await import('#db/conflict-retry');
    const retrying = retryingConflicts(
      new DynamoDBClient({ endpoint: proxy.url, region: localRegion, credentials: localCredentials, maxAttempts: 1 }),
    );
    const policy = { ...conflictRetryPolicy };
    // Enough tries to outlast a 300 ms transaction whatever the jitter draws.
    Object.assign(conflictRetryPolicy, { attempts: 60, baseDelayMs: 10, maxDelayMs: 40 });
    try {
      proxy.configure({ ...HOLD, model: { ...HOLD.model, transactionMs: 300, singleMs: 0 } });
      const x = uniq('FID');
      const first = transact(setV(x, 'tx'));
      await heldItems(1);
      const retriedBefore = conflictRetryStats.retried;
      await retrying.send(new PutItemCommand({ TableName: T, Item: { ...key(x), v: { S: 'single' } } }));
      await first;
      expect(conflictRetryStats.retried).toBeGreaterThan(retriedBefore);
      expect((await proxy.stats()).totals.conflicts).toBe(conflictRetryStats.retried - retriedBefore);
      expect((await read(x))?.v).toEqual({ S: 'single' });
    } finally {
      Object.assign(conflictRetryPolicy, policy);
      retrying.destroy();
    }
  });

  it('lets writes to other items through while one is held', async () => {
    proxy.configure(HOLD);
    const [x, y, z] = [uniq('FID'), uniq('FID'), uniq('FID')];
    const first = transact(setV(x, 'x'));
    await heldItems(1);
    await Promise.all([transact(setV(y, 'y'), put(uniq('FID'))), db.send(new PutItemCommand({ TableName: T, Item: key(z) }))]);
    await first;
    expect((await proxy.stats()).totals).toMatchObject({ cancelled: 0, conflicts: 0 });
    expect([(await read(x))?.v, (await read(y))?.v, await read(z)]).toEqual([{ S: 'x' }, { S: 'y' }, key(z)]);
  });
});

describe('DynamoDB fidelity: what AWS would bill, per item and per partition key', () => {
  it('counts calls, failures, write units (transactional 2/KB, standard 1/KB, index entries 1/KB) and the hottest keys of a known sequence', async () => {
    const [a, b, c, d] = [uniq('UNITS'), uniq('UNITS'), uniq('UNITS'), uniq('UNITS')];
    const [g1, g2, g3] = [uniq('G'), uniq('G'), uniq('G')];
    const indexed = (g: string) => ({ gsi1pk: { S: g }, gsi1sk: { S: '1' } });
    const notThere = 'attribute_not_exists(pk)';

    await db.send(new PutItemCommand({ TableName: T, Item: { ...key(a), ...indexed(g1) } })); // a: 1, g1: 1
    await transact(
      {
        Update: { TableName: T, Key: key(a), UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': { N: '1' } } },
      },
      put(b, indexed(g2)),
    ); // a: 2 and its g1 entry 1; b: 2, g2: 1
    await expect(
      db.send(new UpdateItemCommand({ ...setV(a, 'no').Update!, ConditionExpression: notThere })),
    ).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' }); // billed 1 on a
    await expect(
      transact({ ConditionCheck: { TableName: T, Key: key(a), ConditionExpression: notThere } }, put(c, indexed(g2))),
    ).rejects.toMatchObject({ name: 'TransactionCanceledException' }); // billed 2 on c, nothing written
    await db.send(
      new UpdateItemCommand({
        TableName: T,
        Key: key(b),
        UpdateExpression: 'SET gsi1pk = :g',
        ExpressionAttributeValues: { ':g': { S: g3 } },
      }),
    ); // b: 1; its entry leaves g2 (1) for g3 (1)
    await raw('DeleteItem', { TableName: T, Key: key(a) }); // a: 1, its g1 entry deleted: 1
    await db.send(new PutItemCommand({ TableName: T, Item: { ...key(d), data: { S: 'x'.repeat(2500) } } })); // d: 3 (2.5 KB)

    const s = await proxy.stats(20);
    expect(s.totals).toMatchObject({
      calls: 7,
      writeCalls: 7,
      billedWriteAttempts: 7,
      transactions: 2,
      cancelled: 1,
      conflicts: 0,
      conditionFailed: 2,
      throttled: 0,
      tableWriteUnits: 1 + 4 + 1 + 2 + 1 + 1 + 3,
      indexWriteUnits: 1 + 2 + 2 + 1,
      writeUnits: 19,
      itemWrites: 6,
      indexWrites: 6,
    });
    // Every write call counted once by the kinds of item it wrote (here each test key is its own kind).
    const kinds = s.totals.writeCallsByKind;
    expect(Object.values(kinds).reduce((n, k) => n + k, 0)).toBe(7);
    expect(kinds[[a, b].sort().join(' + ')]).toBe(1); // the transaction wrote both
    expect(s.hottest.items[0]).toEqual({ key: `${T} ${a} x`, writes: 3, attempts: 4, units: 5 });
    expect(s.hottest.tablePartitions[0]).toEqual({ key: `${T} ${a}`, writes: 3, attempts: 4, units: 5 });
    const index = Object.fromEntries(s.hottest.indexPartitions.map((p) => [p.key, p.writes]));
    expect(index).toEqual({ [`${T}/gsi1 ${g1}`]: 3, [`${T}/gsi1 ${g2}`]: 2, [`${T}/gsi1 ${g3}`]: 1 });

    // The same counts over HTTP, for the bench and other processes; a reset starts them again.
    const served = (await (await fetch(`${proxy.url}/fidelity/stats?top=20`)).json()) as typeof s;
    expect({ totals: served.totals, hottest: served.hottest }).toEqual({ totals: s.totals, hottest: s.hottest });
    expect((await fetch(`${proxy.url}/fidelity/reset`, { method: 'POST' })).status).toBe(200);
    expect((await proxy.stats()).totals).toMatchObject({ calls: 0, writeUnits: 0 });
  });
});

describe('DynamoDB fidelity: throughput per item and per partition key', () => {
  it('refuses writes past an item’s units, past an index partition’s, and cancels a transaction on that item; other items go through', async () => {
    // Buckets of 3 units that barely refill: the 4th unit within the test is refused.
    proxy.configure({ throttle: true, unitsPerSecond: 0.01, burstSeconds: 300 });
    const hot = uniq('HOT');
    for (let i = 0; i < 3; i++) await db.send(new PutItemCommand({ TableName: T, Item: key(hot) }));
    const refused = await raw('PutItem', { TableName: T, Item: key(hot) });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({
      __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException',
      ThrottlingReasons: [{ reason: 'TableWriteKeyRangeThroughputExceeded', resource: expect.stringContaining(T) }],
    });
    await expect(transact(put(hot), put(uniq('COLD')))).rejects.toMatchObject({
      name: 'TransactionCanceledException',
      CancellationReasons: [{ Code: 'ThrottlingError' }, { Code: 'None' }],
    });
    await db.send(new PutItemCommand({ TableName: T, Item: key(uniq('COLD')) }));

    // Four items of their own, one index partition: its 4th entry is one too many.
    const g = uniq('GHOT');
    for (let i = 0; i < 3; i++)
      await db.send(new PutItemCommand({ TableName: T, Item: { ...key(uniq('I')), gsi1pk: { S: g }, gsi1sk: { S: '1' } } }));
    const index = await raw('PutItem', { TableName: T, Item: { ...key(uniq('I')), gsi1pk: { S: g }, gsi1sk: { S: '1' } } });
    expect(index.body).toMatchObject({ ThrottlingReasons: [{ reason: 'IndexWriteKeyRangeThroughputExceeded' }] });

    expect((await proxy.stats()).totals.throttled).toBe(3);
  });
});
