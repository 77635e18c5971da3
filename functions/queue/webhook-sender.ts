import type { SQSRecord } from 'aws-lambda';
import { logger } from '#core/logger';
import { sqsWorker } from '#core/sqs-worker';
import { table } from '#db/client';
import { deliveryMessage } from '#domain/recharge/queue';
import { type SendOutcome, sendDelivery } from '#domain/recharge/send';

table();

/**
 * One record: one attempt of one delivery. A record that fails (the sender's own failure, never
 * the receiver's: those are recorded and re-enqueued; a body that does not parse) is reported
 * alone and comes back, then lands in the DLQ after maxReceiveCount.
 */
async function recordHandler(record: SQSRecord): Promise<SendOutcome> {
  try {
    return await sendDelivery(deliveryMessage.parse(JSON.parse(record.body)));
  } catch (err) {
    logger.warn('webhook message failed', { messageId: record.messageId, error: String((err as Error)?.message ?? err) });
    throw err;
  }
}

/**
 * Webhooks queue → the agencies' endpoints. The batch's records run side by side (the
 * processor's default), so one endpoint that takes its full 10 s holds no other record of the
 * batch; each agency has at most a few deliveries in flight (fairness.ts), so one agency's
 * backlog does not hold the others' either.
 */
export const handler = sqsWorker(recordHandler, { throwOnFullBatchFailure: false });
