import type { DynamoDBStreamEvent } from 'aws-lambda';
import { requireEnv } from '#core/env';
import { worker } from '#core/worker';
import { table } from '#db/client';
import { handleRechargeRecords } from '#domain/recharge/detect';

table();
requireEnv('WEBHOOKS_QUEUE_URL');

/**
 * Table stream (second event source, filtered: wallet modifications and webhook delivery
 * inserts) → recharge requests opened, deliveries queued for the webhook sender.
 */
export const handler = worker((event: DynamoDBStreamEvent) => handleRechargeRecords(event.Records));
