import * as z from '#core/zod';
import { cursor, line, trimmedLine } from '../text-fields';
import { eventTypes } from './catalog';

/**
 * Request shapes of the event webhook endpoints (API.md, Event webhooks). The URL is one line
 * here; whether it may be a target is the same check as auto-recharge's (400
 * `invalid_webhook_url` with its reason).
 */
const url = z.withMeta(line(2048).check(z.minLength(1)), { example: 'https://crm.acme-agency.com/hooks/credits' });
const events = z.withMeta(z.array(z.enum(eventTypes)).check(z.minLength(1), z.maxLength(eventTypes.length)), {
  description: 'Event types to receive (at least one)',
});
const description = trimmedLine(200, 0);

export const createWebhookEndpointBody = z.strictObject({ url, events, description: z.optional(description) });
export type CreateWebhookEndpointBody = z.infer<typeof createWebhookEndpointBody>;

export const patchWebhookEndpointBody = z
  .strictObject({
    url: z.optional(url),
    events: z.optional(events),
    enabled: z.optional(z.boolean()),
    description: z.optional(description),
  })
  .check(z.refine((b) => Object.keys(b).length > 0, { message: 'at least one field is required' }));
export type PatchWebhookEndpointBody = z.infer<typeof patchWebhookEndpointBody>;

export const endpointDeliveriesQuery = z.strictObject({
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(200)), 50),
  cursor: z.optional(cursor(1024)),
  status: z.optional(z.enum(['pending', 'succeeded', 'failed'])),
});
export type EndpointDeliveriesQuery = z.infer<typeof endpointDeliveriesQuery>;
