import { queryOptions } from '@tanstack/react-query';
import { ApiError, api, call } from '../../api/client';

/** The auto-recharge webhook and its delivery log; the event webhook endpoints and each one's log. */
export const webhookKeys = {
  recharge: ['recharge-webhook'] as const,
  rechargeDeliveries: ['webhook-deliveries'] as const,
  endpoints: ['webhook-endpoints'] as const,
  endpointDeliveries: (webhookEndpointId: string) => ['webhook-endpoint-deliveries', webhookEndpointId] as const,
  endpointDeliveryPage: (webhookEndpointId: string, cursor: string) =>
    [...webhookKeys.endpointDeliveries(webhookEndpointId), cursor] as const,
};

/** The auto-recharge webhook, null when none is saved: a save writes its answer here, a delete writes null. */
export const rechargeWebhookOptions = () =>
  queryOptions({
    queryKey: webhookKeys.recharge,
    queryFn: async () => {
      try {
        return await call(api.GET('/v1/reselling/auto-recharge-webhook'));
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return null; // none saved yet
        throw err;
      }
    },
  });
