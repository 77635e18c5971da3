import { auditing, authenticating } from '#db/access';
import { keyPrefixes } from '#db/schema';
import { allow } from '#domain/auth/principal';
import { deliveriesQuery, rechargeRequestsQuery, webhookEndpointBody } from '#domain/recharge/schemas';
import * as res from '../responses';
import { type HttpFunctionManifest, type RouteDef, standardNeeds } from '../route-def';
import { webhookEndpointRoutes } from './webhook-endpoints';

const agencyReselling = { allow: allow.agency, feature: 'reselling', fn: 'auto-recharge' } as const;

/** Auto-recharge through the agency's own payment server (API.md, Auto-recharge). */
export const autoRechargeRoutes = [
  {
    ...agencyReselling,
    method: 'PUT',
    path: '/v1/reselling/auto-recharge-webhook',
    summary:
      "Save the agency's auto-recharge webhook URL (https, a public address; checked again before each delivery). 200 {url, enabled, secret}: the secret only when the endpoint is created",
    body: webhookEndpointBody,
    status: 200,
    response: res.WebhookEndpointSaved,
    refusals: ['invalid_webhook_url'],
  },
  {
    ...agencyReselling,
    method: 'GET',
    path: '/v1/reselling/auto-recharge-webhook',
    summary: 'The auto-recharge webhook endpoint: {url, enabled, disabledReason}; none → 404',
    status: 200,
    response: res.WebhookEndpoint,
    refusals: ['not_found'],
  },
  {
    ...agencyReselling,
    method: 'DELETE',
    path: '/v1/reselling/auto-recharge-webhook',
    summary: 'Remove the endpoint and its secret; pending deliveries fail. Requests still open',
    status: 204,
  },
  {
    ...agencyReselling,
    method: 'POST',
    path: '/v1/reselling/auto-recharge-webhook/rotate-secret',
    summary: 'A new signing secret, shown once; for 24 h every delivery carries both signatures',
    status: 200,
    response: res.WebhookSecret,
    refusals: ['not_found'],
  },
  {
    ...agencyReselling,
    method: 'POST',
    path: '/v1/reselling/auto-recharge-webhook/test',
    summary:
      'Send a webhook.test event to the endpoint. 202 {deliveryId}; a disabled endpoint → 409 conflict; more than 10 an hour per agency → 429 with Retry-After',
    status: 202,
    response: res.WebhookDeliveryAccepted,
    refusals: ['not_found', 'conflict', 'too_many_attempts'],
  },
  {
    ...agencyReselling,
    method: 'GET',
    path: '/v1/reselling/recharge-requests',
    summary: 'Recharge requests, newest first, by sub-account and status (open, fulfilled, expired)',
    query: rechargeRequestsQuery,
    status: 200,
    response: res.RechargeRequestList,
  },
  {
    ...agencyReselling,
    method: 'GET',
    path: '/v1/reselling/webhook-deliveries',
    summary: 'The webhook delivery log, newest first, by status: attempts, last status code and error, next attempt',
    query: deliveriesQuery,
    status: 200,
    response: res.WebhookDeliveryList,
  },
  {
    ...agencyReselling,
    method: 'POST',
    path: '/v1/reselling/webhook-deliveries/{deliveryId}/retry',
    summary: 'Send a failed delivery once more (the same webhook-id). 202; pending or succeeded → 409 conflict',
    status: 202,
    response: res.WebhookDeliveryAccepted,
    refusals: ['conflict'],
  },
] as const satisfies readonly RouteDef[];

/** The auto-recharge function (functions/http/auto-recharge.ts). */
export const autoRechargeFunction = {
  name: 'auto-recharge',
  description:
    "Webhooks to the agency's servers: auto-recharge through its own payment server (its endpoint, recharge requests and deliveries), and event webhook endpoints",
  // Seals new webhook secrets, opens them to rotate; queues manual retries.
  needs: [...standardNeeds, 'sealEncrypt', 'sealDecrypt', 'webhooksQueue'],
  // The webhook endpoint (the agency's reselling settings), recharge requests, deliveries, the test events' throttle;
  // each change's audit record.
  tableKeys: [...authenticating, keyPrefixes.recharge, keyPrefixes.webhook, keyPrefixes.throttle, auditing],
  routes: [...autoRechargeRoutes, ...webhookEndpointRoutes],
} as const satisfies HttpFunctionManifest<'auto-recharge'>;
