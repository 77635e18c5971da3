import type { DynamoDBStreamEvent } from 'aws-lambda';
import { requireEnv } from '../../packages/core/env';
import { worker } from '../../packages/core/worker';
import { table } from '../../packages/db/client';
import { handleRechargeRecords } from '../../packages/domain/recharge/detect';

table();
requireEnv('WEBHOOKS_QUEUE_URL');

/**
 * Table stream (second event source, filtered: wallet modifications and webhook delivery
 * inserts) → recharge requests opened, deliveries queued for the webhook sender.
 */
export const handler = worker((event: DynamoDBStreamEvent) => handleRechargeRecords(event.Records));
