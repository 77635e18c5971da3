import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import { awsClientDefaults } from '../../core/aws-clients';
import { requireEnv } from '../../core/env';
import { traced } from '../../core/tracing';

/**
 * The webhooks queue's message: one attempt of one delivery. `notBefore` (epoch ms) carries a
 * wait longer than SQS's 900 s delay ceiling: the sender re-enqueues until it is due.
 */
export const deliveryMessage = z.strictObject({
  agencyId: z.string().min(1).max(64),
  deliveryId: z.string().min(1).max(64),
  attempt: z.int().min(1).max(1000),
  notBefore: z.int().min(0).optional(),
});
export type DeliveryMessage = z.infer<typeof deliveryMessage>;

let sqs: SQSClient | undefined;

export async function enqueueDelivery(message: DeliveryMessage, delaySeconds = 0): Promise<void> {
  sqs ??= traced(new SQSClient(awsClientDefaults));
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: requireEnv('WEBHOOKS_QUEUE_URL'),
      MessageBody: JSON.stringify(message),
      ...(delaySeconds > 0 && { DelaySeconds: delaySeconds }),
    }),
  );
}
