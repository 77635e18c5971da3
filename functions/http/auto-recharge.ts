import { requireEnv } from '../../packages/core/env';
import { table } from '../../packages/db/client';
import { getEndpoint, removeEndpoint, rotateSecret, saveEndpoint, sendTestEvent } from '../../packages/domain/recharge/endpoint';
import { listDeliveryLog, listRequests, retryDelivery } from '../../packages/domain/recharge/lists';
import { httpHandler } from '../../packages/http/handler';
import { json, noContent } from '../../packages/http/response';
import { autoRechargeRoutes } from '../../packages/http/routes/auto-recharge';

table();
requireEnv('WEBHOOKS_QUEUE_URL');

export const handler = httpHandler(autoRechargeRoutes, {
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
});
