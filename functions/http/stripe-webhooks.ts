import { AppError } from '#core/errors';
import { table } from '#db/client';
import { handleStripeWebhook, type WebhookEndpoint } from '#domain/reselling/webhooks';
import { httpHandler, type RequestContext } from '#http/handler';
import { json } from '#http/response';
import type { RouteDef } from '#http/route-def';
import { stripeWebhooksFunction } from '#http/routes/stripe-webhooks';

table();

const MAX_EVENT_BYTES = 256 * 1024;

async function receive(endpoint: WebhookEndpoint, { rawBody, headers }: Pick<RequestContext<RouteDef>, 'rawBody' | 'headers'>) {
  if (rawBody && rawBody.length > MAX_EVENT_BYTES) throw new AppError('payload_too_large', 'body: larger than 256 KiB');
  return json(200, await handleStripeWebhook(endpoint, rawBody, headers['stripe-signature']));
}

export const handler = httpHandler(stripeWebhooksFunction.routes, {
  'POST /v1/webhooks/stripe/connect': (ctx) => receive('connect', ctx),
  'POST /v1/webhooks/stripe': (ctx) => receive('platform', ctx),
});
