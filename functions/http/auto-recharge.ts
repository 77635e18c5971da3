import { requireEnv } from '#core/env';
import { table } from '#db/client';
import {
  createEventEndpoint,
  deleteEventEndpoint,
  getEventEndpointView,
  listEndpointDeliveries,
  listEventEndpoints,
  patchEventEndpoint,
  retryEndpointDelivery,
  rotateEventEndpointSecret,
  sendEndpointTest,
} from '#domain/events/endpoints';
import { getEndpoint, removeEndpoint, rotateSecret, saveEndpoint, sendTestEvent } from '#domain/recharge/endpoint';
import { listDeliveryLog, listRequests, retryDelivery } from '#domain/recharge/lists';
import { httpHandler } from '#http/handler';
import { json, noContent } from '#http/response';
import { autoRechargeFunction } from '#http/routes/auto-recharge';

table();
requireEnv('WEBHOOKS_QUEUE_URL');

export const handler = httpHandler(autoRechargeFunction.routes, {
  'PUT /v1/reselling/auto-recharge-webhook': async ({ principal, body }) =>
    json(200, await saveEndpoint(principal.agencyId, body)),
  'GET /v1/reselling/auto-recharge-webhook': async ({ principal }) => json(200, await getEndpoint(principal.agencyId)),
  'DELETE /v1/reselling/auto-recharge-webhook': async ({ principal }) => {
    await removeEndpoint(principal.agencyId);
    return noContent();
  },
  'POST /v1/reselling/auto-recharge-webhook/rotate-secret': async ({ principal }) =>
    json(200, await rotateSecret(principal.agencyId)),
  'POST /v1/reselling/auto-recharge-webhook/test': async ({ principal }) => json(202, await sendTestEvent(principal.agencyId)),
  'GET /v1/reselling/recharge-requests': async ({ principal, query }) => json(200, await listRequests(principal.agencyId, query)),
  'GET /v1/reselling/webhook-deliveries': async ({ principal, query }) =>
    json(200, await listDeliveryLog(principal.agencyId, query)),
  'POST /v1/reselling/webhook-deliveries/{deliveryId}/retry': async ({ principal, params }) =>
    json(202, await retryDelivery(principal.agencyId, params.deliveryId)),

  // Event webhooks.
  'POST /v1/webhook-endpoints': async ({ principal, body }) => json(201, await createEventEndpoint(principal.agencyId, body)),
  'GET /v1/webhook-endpoints': async ({ principal }) => json(200, await listEventEndpoints(principal.agencyId)),
  'GET /v1/webhook-endpoints/{webhookEndpointId}': async ({ principal, params }) =>
    json(200, await getEventEndpointView(principal.agencyId, params.webhookEndpointId)),
  'PATCH /v1/webhook-endpoints/{webhookEndpointId}': async ({ principal, params, body }) =>
    json(200, await patchEventEndpoint(principal.agencyId, params.webhookEndpointId, body)),
  'DELETE /v1/webhook-endpoints/{webhookEndpointId}': async ({ principal, params }) => {
    await deleteEventEndpoint(principal.agencyId, params.webhookEndpointId);
    return noContent();
  },
  'POST /v1/webhook-endpoints/{webhookEndpointId}/rotate-secret': async ({ principal, params }) =>
    json(200, await rotateEventEndpointSecret(principal.agencyId, params.webhookEndpointId)),
  'POST /v1/webhook-endpoints/{webhookEndpointId}/test': async ({ principal, params }) =>
    json(202, await sendEndpointTest(principal.agencyId, params.webhookEndpointId)),
  'GET /v1/webhook-endpoints/{webhookEndpointId}/deliveries': async ({ principal, params, query }) =>
    json(200, await listEndpointDeliveries(principal.agencyId, params.webhookEndpointId, query)),
  'POST /v1/webhook-endpoints/{webhookEndpointId}/deliveries/{deliveryId}/retry': async ({ principal, params }) =>
    json(202, await retryEndpointDelivery(principal.agencyId, params.webhookEndpointId, params.deliveryId)),
});
