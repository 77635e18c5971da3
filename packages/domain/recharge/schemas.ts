import * as z from '#core/zod';
import { cursor, line } from '../text-fields';

/**
 * Request shapes of the auto-recharge routes. The URL is any one line here: whether it may be
 * a webhook target (https, a public address, …) is the endpoint's own check, answered as 400
 * `invalid_webhook_url` with its reason (webhooks/webhook-url.ts).
 */
export const webhookEndpointBody = z.strictObject({
  url: z.withMeta(line(2048).check(z.minLength(1)), { example: 'https://billing.acme-agency.com/hooks/recharge' }),
});
export type WebhookEndpointBody = z.infer<typeof webhookEndpointBody>;

const page = {
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(200)), 50),
  cursor: z.optional(cursor(1024)),
};

export const rechargeRequestsQuery = z.strictObject({
  ...page,
  subAccountId: z.optional(line(64)),
  status: z.optional(z.enum(['open', 'fulfilled', 'expired'])),
});
export type RechargeRequestsQuery = z.infer<typeof rechargeRequestsQuery>;

export const deliveriesQuery = z.strictObject({
  ...page,
  status: z.optional(z.enum(['pending', 'succeeded', 'failed'])),
});
export type DeliveriesQuery = z.infer<typeof deliveriesQuery>;
