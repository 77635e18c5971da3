import '../support/stack'; // first: points this process at the local stack before handlers load
import { readFileSync } from 'node:fs';
import type { DynamoDBStreamEvent, SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handler as notifier } from '../../functions/queue/notifier';
import { handler as forwarder } from '../../functions/stream/forwarder';
import { lambdaContext } from '../../packages/local/lambda-context';
import { matchesFilter, outboxStreamFilter } from '../../packages/queues/definitions';

/**
 * The sample worker events under events/ stay true: the stream sample passes the deployed
 * filter and the forwarder queues it; the queue sample is accepted by the notifier (its outbox
 * item does not exist, so there is nothing to send: delivered = already done).
 */
const load = <T>(path: string) => JSON.parse(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')) as T;

describe('sample worker events', () => {
  it('events/stream/outbox-insert.json matches the stream filter and is forwarded', async () => {
    const event = load<DynamoDBStreamEvent>('events/stream/outbox-insert.json');
    expect(event.Records.every((r) => matchesFilter(outboxStreamFilter, r))).toBe(true);
    expect(await forwarder(event)).toEqual({ batchItemFailures: [] });
  });

  it('events/sqs/notification.json is processed without failures', async () => {
    const event = load<SQSEvent>('events/sqs/notification.json');
    expect(await notifier(event, lambdaContext('notifier'))).toEqual({ batchItemFailures: [] });
  });
});
