import { AppError } from '../../packages/core/errors';
import { table } from '../../packages/db/client';
import { handleStripeWebhook, type WebhookEndpoint } from '../../packages/domain/reselling/webhooks';
import { httpHandler, type RequestContext } from '../../packages/http/handler';
import { json } from '../../packages/http/response';
import type { RouteDef } from '../../packages/http/route-def';
import { stripeWebhooksFunction } from '../../packages/http/routes/stripe-webhooks';

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
