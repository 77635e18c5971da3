import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { awsClientDefaults } from '#core/aws-clients';
import { requireEnv } from '#core/env';
import { traced } from '#core/tracing';
import * as z from '#core/zod';

/**
 * The webhooks queue's message: one attempt of one delivery. `notBefore` (epoch ms) carries a
 * wait longer than SQS's 900 s delay ceiling: the sender re-enqueues until it is due. `waits`
 * counts the times it found every one of its agency's slots held (fairness.ts): each wait is longer.
 */
export const deliveryMessage = z.strictObject({
  agencyId: z.string().check(z.minLength(1), z.maxLength(64)),
  deliveryId: z.string().check(z.minLength(1), z.maxLength(64)),
  attempt: z.int().check(z.minimum(1), z.maximum(1000)),
  notBefore: z.optional(z.int().check(z.minimum(0))),
  waits: z.optional(z.int().check(z.minimum(1), z.maximum(100))),
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
