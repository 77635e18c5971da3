import { queryOptions } from '@tanstack/react-query';
import { api, call } from '../../api/client';

/** The agency pool's card and auto top-up, and its low-balance alert levels (GET /v1/credits/…). */
export const autoTopUpKeys = {
  settings: ['auto-top-up'] as const,
  alerts: ['alerts'] as const,
};

/** Read by the dashboard and by the page Checkout returns to; a save writes its answer back here. */
export const autoTopUpOptions = (poll = false) =>
  queryOptions({
    queryKey: autoTopUpKeys.settings,
    queryFn: () => call(api.GET('/v1/credits/auto-top-up')),
    // Back from Checkout, the card is saved when Stripe's event arrives: ask until it shows.
    refetchInterval: (q) => (poll && !q.state.data?.paymentMethod ? 1000 : false),
  });

export const alertOptions = () =>
  queryOptions({ queryKey: autoTopUpKeys.alerts, queryFn: () => call(api.GET('/v1/credits/alerts')) });
