import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { requireEnv } from '../../packages/core/env';
import { withInvocationLog } from '../../packages/core/logger';
import { metrics } from '../../packages/core/metrics';
import * as z from '../../packages/core/zod';
import { table } from '../../packages/db/client';
import { deliverOutboxEvent } from '../../packages/domain/notifications/deliver';

table();
requireEnv('EMAIL_FROM');
requireEnv('APP_LOGIN_URL');
requireEnv('APP_URL');

const processor = new BatchProcessor(EventType.SQS);
const message = z.object({ outboxId: z.string().check(z.minLength(1), z.maxLength(64)) });

/** Notifications queue consumer; a failing record is reported alone and retried, then DLQ'd. */
async function recordHandler(record: SQSRecord): Promise<void> {
  const { outboxId } = message.parse(JSON.parse(record.body));
  await deliverOutboxEvent(outboxId);
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  return withInvocationLog(context, async () => {
    try {
      return await processPartialResponse(event, recordHandler, processor, { context });
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  });
}
