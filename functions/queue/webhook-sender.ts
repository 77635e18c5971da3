import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger } from '../../packages/core/logger';
import { metrics } from '../../packages/core/metrics';
import { table } from '../../packages/db/client';
import { deliveryMessage } from '../../packages/domain/recharge/queue';
import { sendDelivery } from '../../packages/domain/recharge/send';

table();

/**
 * Webhooks queue → the agencies' endpoints. The batch's records run side by side, so one
 * endpoint that takes its full 10 s holds no other agency's delivery; each record that failed
 * (the sender's own failure, never the receiver's: those are recorded and re-enqueued) is
 * reported alone and comes back, then lands in the DLQ after maxReceiveCount.
 */
export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  logger.addContext(context);
  try {
    const results = await Promise.allSettled(
      // async: a body that does not parse rejects its own record, never the batch.
      event.Records.map(async (record) => sendDelivery(deliveryMessage.parse(JSON.parse(record.body)))),
    );
    const batchItemFailures = results.flatMap((r, i) => {
      if (r.status === 'fulfilled') return [];
      logger.warn('webhook message failed', {
        messageId: event.Records[i]?.messageId,
        error: String(r.reason?.message ?? r.reason),
      });
      return [{ itemIdentifier: event.Records[i]?.messageId ?? '' }];
    });
    return { batchItemFailures };
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}
