import { allow } from '#domain/auth/principal';
import { createWebhookEndpointBody, endpointDeliveriesQuery, patchWebhookEndpointBody } from '#domain/events/schemas';
import * as res from '../responses';
import type { RouteDef } from '../route-def';

/**
 * Event webhooks (API.md): agency users only. Served by the auto-recharge function, which
 * already holds what they need (the webhooks partition, sealing and opening secrets, the
 * webhooks queue for manual retries), so no second function carries the same grants.
 */
const agencyUsers = { allow: allow.agencyUser, fn: 'auto-recharge' } as const;
const one = '/v1/webhook-endpoints/{webhookEndpointId}';

export const webhookEndpointRoutes = [
  {
    ...agencyUsers,
    method: 'POST',
    path: '/v1/webhook-endpoints',
    summary:
      'Register an endpoint for event types (https, a public address; checked again before each delivery); at most 10 per agency. 201 {endpoint, secret}: the secret is shown here and on rotation only',
    body: createWebhookEndpointBody,
    status: 201,
    response: res.EventWebhookEndpointCreated,
    refusals: ['invalid_webhook_url', 'quota_exceeded'],
  },
  {
    ...agencyUsers,
    method: 'GET',
    path: '/v1/webhook-endpoints',
    summary: "The agency's event webhook endpoints (all of them: at most 10), oldest first",
    status: 200,
    response: res.EventWebhookEndpointList,
  },
  {
    ...agencyUsers,
    method: 'GET',
    path: one,
    summary: 'One endpoint: its URL, event types, and whether it is enabled (and why not)',
    status: 200,
    response: res.EventWebhookEndpoint,
  },
  {
    ...agencyUsers,
    method: 'PATCH',
    path: one,
    summary: 'Change the URL, event types, description, or turn the endpoint on or off (on again after a 410)',
    body: patchWebhookEndpointBody,
    status: 200,
    response: res.EventWebhookEndpoint,
    refusals: ['invalid_webhook_url'],
  },
  {
    ...agencyUsers,
    method: 'DELETE',
    path: one,
    summary: 'Remove the endpoint and its secret; its pending deliveries fail',
    status: 204,
  },
  {
    ...agencyUsers,
    method: 'POST',
    path: `${one}/rotate-secret`,
    summary: 'A new signing secret, shown once; for 24 h every delivery carries both signatures',
    status: 200,
    response: res.WebhookSecret,
  },
  {
    ...agencyUsers,
    method: 'POST',
    path: `${one}/test`,
    summary:
      'Send a webhook.test event to the endpoint. 202 {deliveryId}; a disabled endpoint → 409 conflict; more than 10 an hour per agency → 429 with Retry-After',
    status: 202,
    response: res.WebhookDeliveryAccepted,
    refusals: ['conflict', 'too_many_attempts'],
  },
  {
    ...agencyUsers,
    method: 'GET',
    path: `${one}/deliveries`,
    summary: "The endpoint's delivery log, newest first, by status: attempts, last status code and error, next attempt",
    query: endpointDeliveriesQuery,
    status: 200,
    response: res.EventWebhookDeliveryList,
  },
  {
    ...agencyUsers,
    method: 'POST',
    path: `${one}/deliveries/{deliveryId}/retry`,
    summary: 'Send a failed delivery once more (the same webhook-id). 202; pending or succeeded → 409 conflict',
    status: 202,
    response: res.WebhookDeliveryAccepted,
    refusals: ['conflict'],
  },
] as const satisfies readonly RouteDef[];
