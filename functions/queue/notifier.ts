import type { SQSRecord } from 'aws-lambda';
import { requireEnv } from '#core/env';
import { sqsWorker } from '#core/sqs-worker';
import * as z from '#core/zod';
import { table } from '#db/client';
import { deliverOutboxEvent } from '#domain/notifications/deliver';

table();
requireEnv('EMAIL_FROM');
requireEnv('APP_LOGIN_URL');
requireEnv('APP_URL');

const message = z.object({ outboxId: z.string().check(z.minLength(1), z.maxLength(64)) });

/** Notifications queue consumer; a failing record is reported alone and retried, then DLQ'd. */
async function recordHandler(record: SQSRecord): Promise<void> {
  const { outboxId } = message.parse(JSON.parse(record.body));
  await deliverOutboxEvent(outboxId);
}

export const handler = sqsWorker(recordHandler);
