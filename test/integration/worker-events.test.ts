import '../support/stack'; // first: points this process at the local stack before handlers load
import { readFileSync } from 'node:fs';
import type { DynamoDBStreamEvent, SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { deliveryMessage } from '#domain/recharge/queue';
import { lambdaContext } from '#local/lambda-context';
import { matchesAnyFilter, matchesFilter, outboxStreamFilter, rechargeStreamFilters } from '#queues/definitions';
import { handler as notifier } from '../../functions/queue/notifier';
import { handler as webhookSender } from '../../functions/queue/webhook-sender';
import { handler as forwarder } from '../../functions/stream/forwarder';
import { handler as rechargeDetector } from '../../functions/stream/recharge-detector';

/**
 * The sample worker events under events/ stay true: the stream sample passes the deployed
 * filter and the forwarder queues it; the queue sample is accepted by the notifier (its outbox
 * item does not exist, so there is nothing to send: delivered = already done). Likewise for
 * auto-recharge: a wallet drop passes the detector's filter (its sub-account does not exist:
 * nothing to open), and a delivery message is the sender's schema (no such delivery: dropped).
 */
const load = <T>(path: string) => JSON.parse(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')) as T;

describe('sample worker events', () => {
  it('events/stream/outbox-insert.json matches the stream filter and is forwarded', async () => {
    const event = load<DynamoDBStreamEvent>('events/stream/outbox-insert.json');
    expect(event.Records.every((r) => matchesFilter(outboxStreamFilter, r))).toBe(true);
    expect(await forwarder(event, lambdaContext('forwarder'))).toEqual({ batchItemFailures: [] });
  });

  it('events/sqs/notification.json is processed without failures', async () => {
    const event = load<SQSEvent>('events/sqs/notification.json');
    expect(await notifier(event, lambdaContext('notifier'))).toEqual({ batchItemFailures: [] });
  });

  it('events/stream/wallet-drop.json matches the recharge filter and the detector takes it', async () => {
    const event = load<DynamoDBStreamEvent>('events/stream/wallet-drop.json');
    expect(event.Records.every((r) => matchesAnyFilter(rechargeStreamFilters, r))).toBe(true);
    expect(event.Records.some((r) => matchesFilter(outboxStreamFilter, r))).toBe(false);
    expect(await rechargeDetector(event, lambdaContext('recharge-detector'))).toEqual({ batchItemFailures: [] });
  });

  it('events/sqs/webhook-delivery.json is a delivery message the sender takes', async () => {
    const event = load<SQSEvent>('events/sqs/webhook-delivery.json');
    for (const r of event.Records) expect(deliveryMessage.safeParse(JSON.parse(r.body)).success).toBe(true);
    expect(await webhookSender(event, lambdaContext('webhook-sender'))).toEqual({ batchItemFailures: [] });
  });

  it('a webhook message that does not parse is reported alone; the rest of its batch goes on', async () => {
    const [sample] = load<SQSEvent>('events/sqs/webhook-delivery.json').Records;
    const poison = { ...sample!, messageId: 'poison-1', body: '{"agencyId":' };
    const event = { Records: [poison, sample!, { ...sample!, messageId: 'poison-2', body: '{"agencyId":"a"}' }] };
    expect(await webhookSender(event, lambdaContext('webhook-sender'))).toEqual({
      batchItemFailures: [{ itemIdentifier: 'poison-1' }, { itemIdentifier: 'poison-2' }],
    });
  });
});
