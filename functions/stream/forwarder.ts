import { SendMessageBatchCommand, type SendMessageBatchCommandOutput, SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { awsClientDefaults } from '#core/aws-clients';
import { causeOf } from '#core/dependency-errors';
import { requireEnv } from '#core/env';
import { logger } from '#core/logger';
import { traced } from '#core/tracing';
import { worker } from '#core/worker';

const sqs = traced(new SQSClient(awsClientDefaults));
const queueUrl = requireEnv('NOTIFICATIONS_QUEUE_URL');

/**
 * Table stream → notifications queue. Only committed outbox inserts arrive here (the event
 * source filter). Each becomes a message carrying the outbox id alone: the secret parts stay
 * sealed in the table. Failed sends are reported per record so Lambda retries from there.
 */
export const handler = worker(forward);

async function forward(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const messages = event.Records.flatMap((record) => {
    const id = record.dynamodb?.NewImage?.id?.S;
    const type = record.dynamodb?.NewImage?.event?.M?.type?.S;
    if (record.eventName !== 'INSERT' || !id) return [];
    return [{ sequence: record.dynamodb?.SequenceNumber ?? '', body: JSON.stringify({ outboxId: id, type }) }];
  });

  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    let out: SendMessageBatchCommandOutput;
    try {
      out = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((m, n) => ({ Id: String(n), MessageBody: m.body })),
        }),
      );
    } catch (err) {
      // The queue is unreachable: retry from this chunk, so the chunks already queued are not sent twice.
      logger.warn('forwarding failed; Lambda retries from this chunk', { cause: causeOf(err), records: messages.length - i });
      return { batchItemFailures: [{ itemIdentifier: chunk[0]?.sequence ?? '' }] };
    }
    if (out.Failed?.length) {
      const first = Math.min(...out.Failed.map((f) => Number(f.Id)));
      logger.warn('forwarding failed; Lambda retries from the first failed record', { failed: out.Failed.length });
      return { batchItemFailures: [{ itemIdentifier: chunk[first]?.sequence ?? '' }] };
    }
  }
  return { batchItemFailures: [] };
}
