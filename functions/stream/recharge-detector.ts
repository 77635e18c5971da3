import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { requireEnv } from '../../packages/core/env';
import { withInvocationLog } from '../../packages/core/logger';
import { metrics } from '../../packages/core/metrics';
import { table } from '../../packages/db/client';
import { handleRechargeRecords } from '../../packages/domain/recharge/detect';

table();
requireEnv('WEBHOOKS_QUEUE_URL');

/**
 * Table stream (second event source, filtered: wallet modifications and webhook delivery
 * inserts) → recharge requests opened, deliveries queued for the webhook sender.
 */
export async function handler(event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> {
  return withInvocationLog(context, async () => {
    try {
      return await handleRechargeRecords(event.Records);
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  });
}
