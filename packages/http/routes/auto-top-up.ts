import { allow } from '#domain/auth/principal';
import { alertsBody, autoTopUpBody } from '#domain/auto-top-up/schemas';
import * as res from '../responses';
import type { RouteDef } from '../route-def';

/** The agency pool never runs dry by surprise: a saved card, auto top-up, low-balance alerts. */
export const autoTopUpRoutes = [
  {
    method: 'POST',
    path: '/v1/credits/auto-top-up/payment-method',
    fn: 'reselling',
    summary:
      "Save a card: a Stripe Checkout Session in setup mode on the platform's account for the agency's Stripe Customer (created once). 201 {checkoutUrl}; once completed the card is saved",
    allow: allow.agencyUser,
    status: 201,
    response: res.SetupCheckout,
    refusals: ['payment_provider_error'],
  },
  {
    method: 'DELETE',
    path: '/v1/credits/auto-top-up/payment-method',
    fn: 'reselling',
    summary: 'Remove the saved card: detached at Stripe, auto top-up turns off. 204',
    allow: allow.agencyUser,
    status: 204,
    refusals: ['payment_provider_error'],
  },
  {
    method: 'GET',
    path: '/v1/credits/auto-top-up',
    fn: 'reselling',
    summary: 'The auto top-up settings, the saved card (brand, last 4, expiry), the last attempt and failures in a row',
    allow: allow.agency,
    status: 200,
    response: res.AutoTopUp,
  },
  {
    method: 'PUT',
    path: '/v1/credits/auto-top-up',
    fn: 'reselling',
    summary:
      "Auto top-up: when the pool drops below threshold, one off-session payment per crossing for `credits` at the platform's price (at most 5 a day); 3 failures in a row turn it off. Enabling with no saved card → 409 no_payment_method",
    allow: allow.agencyUser,
    body: autoTopUpBody,
    status: 200,
    response: res.AutoTopUp,
    refusals: ['no_payment_method'],
  },
  {
    method: 'GET',
    path: '/v1/credits/alerts',
    fn: 'reselling',
    summary: 'Low-balance alert levels (null = off)',
    allow: allow.agencyUser,
    status: 200,
    response: res.AlertLevels,
  },
  {
    method: 'PUT',
    path: '/v1/credits/alerts',
    fn: 'reselling',
    summary:
      "Low-balance alert levels: one email to the agency per crossing below poolBelow (the pool) or walletBelow (any reselling sub-account's wallet); null turns one off, a field left out stays",
    allow: allow.agencyUser,
    body: alertsBody,
    status: 200,
    response: res.AlertLevels,
  },
] as const satisfies readonly RouteDef[];
