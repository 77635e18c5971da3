/**
 * How often the local stream poller asks DynamoDB Local, which serves every test at once: the
 * shards are listed (DescribeStream) once in a while, not on every pass; a pass that read
 * nothing is followed by Lambda's idle pace (four polls a second), and a reader of the
 * pollers' status (a test waiting for the pipeline) cuts that pause short.
 *
 * The poller reads the shared table's stream through a counting pass-through on 127.0.0.1,
 * its handler a no-op: a reader of its own, like each of the stack's, from the stream's newest
 * record (a reader from the oldest would first catch up with everything the suite wrote).
 */
import { createServer, request, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localCredentials, localRegion } from '#local/aws-env';
import { streamArnOf } from '#local/dynamodb';
import { startStreamPoller } from '#local/stream-poller';
import { waitFor } from '../support/api';
import { stack } from '../support/stack';

/** Calls by X-Amz-Target (DescribeStream, GetRecords, …), as they pass through to DynamoDB Local. */
const calls = new Map<string, number>();
let proxy: Server;
let endpoint: string;

beforeAll(async () => {
  const target = new URL(stack.dynamoEndpoint);
  proxy = createServer((req, res) => {
    const op =
      String(req.headers['x-amz-target'] ?? '')
        .split('.')
        .pop() ?? '';
    calls.set(op, (calls.get(op) ?? 0) + 1);
    const out = request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => proxy.close(() => resolve())));

const reader = (opts: { idleIntervalMs: number; relistMs: number }) =>
  startStreamPoller({
    endpoint,
    streamArn: () => streamArnOf(stack.dynamoEndpoint, stack.tableName),
    handler: async () => ({ batchItemFailures: [] }),
    functionName: 'pace-test',
    log: () => undefined,
    intervalMs: 1,
    startingPosition: 'LATEST',
    ...opts,
  });

describe('the local stream poller', () => {
  it('lists the shards once while none ends, however many passes read them', async () => {
    calls.clear();
    const poller = reader({ idleIntervalMs: 1, relistMs: 3_600_000 });
    try {
      await waitFor(async () => poller.status().passes >= 30, 30_000, 'thirty passes');
    } finally {
      await poller.stop();
    }
    expect(calls.get('GetRecords') ?? 0).toBeGreaterThanOrEqual(29);
    // One listing at the start; one more only if a shard of the shared stream ended meanwhile.
    expect(calls.get('DescribeStream') ?? 0).toBeLessThanOrEqual(2);
  });

  it('lists them again when the relisting period is shorter than a pass apart', async () => {
    calls.clear();
    const poller = reader({ idleIntervalMs: 1, relistMs: 0 });
    try {
      await waitFor(async () => poller.status().passes >= 10, 30_000, 'ten passes');
    } finally {
      await poller.stop();
    }
    expect(calls.get('DescribeStream') ?? 0).toBeGreaterThanOrEqual(10);
  });

  it('after a pass that read nothing, holds still for its idle pause until woken', async () => {
    // An idle pause of an hour, and 1 ms after a pass that read records.
    const poller = reader({ idleIntervalMs: 3_600_000, relistMs: 1000 });
    try {
      // Still for half a second: in its idle pause (the shared stream may bring records at
      // first, each read followed by another pass at once).
      await waitFor(
        async () => {
          const passes = poller.status().passes;
          await sleep(500);
          return passes > 0 && poller.status().passes === passes;
        },
        60_000,
        'an idle pause',
      );
      const idle = poller.status().passes;
      poller.wake();
      await waitFor(async () => poller.status().passes > idle, 30_000, 'the pass a wake brings');
    } finally {
      await poller.stop();
    }
  });

  it('read from LATEST, hands over what is written after its first listing and nothing before', async () => {
    const db = new DynamoDBClient({ endpoint: stack.dynamoEndpoint, region: localRegion, credentials: localCredentials });
    const mark = `PACE#${Date.now()}#${Math.random()}`;
    const put = (sk: string) =>
      db.send(new PutItemCommand({ TableName: stack.tableName, Item: { pk: { S: mark }, sk: { S: sk } } }));
    const seen: string[] = [];
    await put('before');
    const poller = startStreamPoller({
      endpoint,
      streamArn: () => streamArnOf(stack.dynamoEndpoint, stack.tableName),
      handler: async (event: { Records: Array<{ dynamodb?: { Keys?: Record<string, { S?: string }> } }> }) => {
        for (const r of event.Records) if (r.dynamodb?.Keys?.pk?.S === mark) seen.push(r.dynamodb.Keys.sk?.S ?? '');
        return { batchItemFailures: [] };
      },
      filters: [{ eventName: ['INSERT'] }],
      functionName: 'pace-test',
      log: () => undefined,
      intervalMs: 1,
      idleIntervalMs: 5,
      startingPosition: 'LATEST',
    });
    try {
      // A pass counts when it begins: the second has begun once the first listing is done.
      await waitFor(async () => poller.status().passes >= 2, 30_000, 'the first pass');
      await put('after');
      await waitFor(async () => seen.includes('after'), 30_000, 'the record written after the start');
    } finally {
      await poller.stop();
      db.destroy();
    }
    expect(seen).toEqual(['after']);
  });
});
