import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { logger, withInvocationLog } from '../../packages/core/logger';
import { metrics } from '../../packages/core/metrics';
import { table } from '../../packages/db/client';
import { deliveryMessage } from '../../packages/domain/recharge/queue';
import { type SendOutcome, sendDelivery } from '../../packages/domain/recharge/send';

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
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  return withInvocationLog(context, async () => {
    try {
      // A processor per batch: it holds the batch's state, and the local runtime runs several batches in one process.
      const processor = new BatchProcessor(EventType.SQS);
      return await processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  });
}
