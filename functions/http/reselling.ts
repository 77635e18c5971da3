import { table } from '#db/client';
import {
  getAlerts,
  getAutoTopUpView,
  putAlerts,
  putAutoTopUpSettings,
  removeCard,
  saveCardCheckout,
} from '#domain/auto-top-up/settings';
import { resellingDashboard } from '#domain/reselling/dashboard';
import { creditOffers, offersView, platformTerms } from '#domain/reselling/offers';
import { buyFromAgency, buyFromPlatform, listAccountPurchases, listPoolPurchases } from '#domain/reselling/purchases';
import { connectStripe, getSettings, putPricing } from '#domain/reselling/settings';
import { httpHandler } from '#http/handler';
import { json, noContent, replayHeader } from '#http/response';
import { resellingFunction } from '#http/routes/reselling';

table();

export const handler = httpHandler(resellingFunction.routes, {
  'POST /v1/reselling/stripe/connect': async ({ principal, requestId }) =>
    json(201, await connectStripe(principal.agencyId, requestId)),
  'GET /v1/reselling/settings': async ({ principal }) => json(200, await getSettings(principal.agencyId)),
  'PUT /v1/reselling/pricing': async ({ principal, body }) => json(200, await putPricing(principal.agencyId, body)),
  'GET /v1/reselling/dashboard': async ({ principal, query }) => json(200, await resellingDashboard(principal.agencyId, query)),
  'GET /v1/accounts/{accountId}/credit-offers': async ({ account }) => json(200, await creditOffers(account)),
  'POST /v1/accounts/{accountId}/credit-purchases': async ({ principal, account, body, idempotencyKey }) => {
    const out = await buyFromAgency(principal, account, body, idempotencyKey);
    return json(201, out.body, replayHeader(out.replayed));
  },
  'GET /v1/accounts/{accountId}/credit-purchases': async ({ account, query }) =>
    json(200, await listAccountPurchases(account, query)),
  'POST /v1/credits/purchases': async ({ principal, body, idempotencyKey }) => {
    const out = await buyFromPlatform(principal, principal.agencyId, body, idempotencyKey);
    return json(201, out.body, replayHeader(out.replayed));
  },
  'GET /v1/credits/packages': async () => json(200, offersView(platformTerms())),
  'GET /v1/credits/purchases': async ({ principal, query }) => json(200, await listPoolPurchases(principal.agencyId, query)),
  'POST /v1/credits/auto-top-up/payment-method': async ({ principal, requestId }) =>
    json(201, await saveCardCheckout(principal.agencyId, requestId)),
  'DELETE /v1/credits/auto-top-up/payment-method': async ({ principal }) => {
    await removeCard(principal.agencyId);
    return noContent();
  },
  'GET /v1/credits/auto-top-up': async ({ principal }) => json(200, await getAutoTopUpView(principal.agencyId)),
  'PUT /v1/credits/auto-top-up': async ({ principal, body }) => json(200, await putAutoTopUpSettings(principal.agencyId, body)),
  'GET /v1/credits/alerts': async ({ principal }) => json(200, await getAlerts(principal.agencyId)),
  'PUT /v1/credits/alerts': async ({ principal, body }) => json(200, await putAlerts(principal.agencyId, body)),
});
