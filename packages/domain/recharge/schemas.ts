import * as z from 'zod';
import { cursor, line } from '../text-fields';

/**
 * Request shapes of the auto-recharge routes. The URL is any one line here: whether it may be
 * a webhook target (https, a public address, …) is the endpoint's own check, answered as 400
 * `invalid_webhook_url` with its reason (webhooks/webhook-url.ts).
 */
export const webhookEndpointBody = z.strictObject({
  url: line(2048).min(1).meta({ example: 'https://billing.acme-agency.com/hooks/recharge' }),
});
export type WebhookEndpointBody = z.infer<typeof webhookEndpointBody>;

const page = {
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: cursor(1024).optional(),
};

export const rechargeRequestsQuery = z.strictObject({
  ...page,
  subAccountId: line(64).optional(),
  status: z.enum(['open', 'fulfilled', 'expired']).optional(),
});
export type RechargeRequestsQuery = z.infer<typeof rechargeRequestsQuery>;

export const deliveriesQuery = z.strictObject({
  ...page,
  status: z.enum(['pending', 'succeeded', 'failed']).optional(),
});
export type DeliveriesQuery = z.infer<typeof deliveriesQuery>;
