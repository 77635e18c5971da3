import { auditing, authenticating } from '#db/access';
import { keyPrefixes } from '#db/schema';
import { allow } from '#domain/auth/principal';
import { dashboardQuery, pricingBody, purchaseBody, purchasesQuery } from '#domain/reselling/schemas';
import * as res from '../responses';
import { type HttpFunctionManifest, type RouteDef, standardNeeds } from '../route-def';
import { autoTopUpRoutes } from './auto-top-up';

/** Reselling (the agency's Stripe account, pricing, dashboard) and buying credits through Stripe Checkout. */
export const resellingRoutes = [
  {
    method: 'POST',
    path: '/v1/reselling/stripe/connect',
    fn: 'reselling',
    summary: "Connect the agency's Stripe account (created once) and get a fresh onboarding link. 201 {accountId, onboardingUrl}",
    allow: allow.agency,
    feature: 'reselling',
    status: 201,
    response: res.StripeConnected,
    refusals: ['payment_provider_error'],
  },
  {
    method: 'GET',
    path: '/v1/reselling/settings',
    fn: 'reselling',
    summary: "The agency's reselling settings: Stripe account state, pricing, the platform's minimum prices",
    allow: allow.agency,
    feature: 'reselling',
    status: 200,
    response: res.ResellingSettings,
  },
  {
    method: 'PUT',
    path: '/v1/reselling/pricing',
    fn: 'reselling',
    summary: 'Set the per-credit price and 0–20 packages; below the platform minimum → 422 price_below_minimum with minimum',
    allow: allow.agency,
    feature: 'reselling',
    body: pricingBody,
    status: 200,
    response: res.PricingSaved,
    refusals: ['price_below_minimum', 'amount_too_small'],
  },
  {
    method: 'GET',
    path: '/v1/reselling/dashboard',
    fn: 'reselling',
    summary: 'Per reselling sub-account: purchased, spend, consumed, remaining and a daily series (paged)',
    allow: allow.agency,
    feature: 'reselling',
    query: dashboardQuery,
    status: 200,
    response: res.ResellingDashboard,
  },
  {
    method: 'GET',
    path: '/v1/accounts/{accountId}/credit-offers',
    fn: 'reselling',
    summary: "A reselling sub-account's offers from its agency; manual mode → 404; agency not ready → 409 reselling_not_ready",
    allow: allow.accountMembers,
    scope: { param: 'accountId', kind: 'account' },
    status: 200,
    response: res.CreditOffers,
    refusals: ['feature_not_enabled', 'reselling_not_ready'],
  },
  {
    method: 'POST',
    path: '/v1/accounts/{accountId}/credit-purchases',
    fn: 'reselling',
    summary:
      "Buy a package or any number of credits: a Stripe Checkout Session on the agency's account. 201 {purchase, checkoutUrl}",
    allow: allow.accountMembers,
    scope: { param: 'accountId', kind: 'account' },
    body: purchaseBody,
    idempotent: true,
    status: 201,
    response: res.CreditPurchaseCreated,
    refusals: [
      'feature_not_enabled',
      'wrong_credit_mode',
      'account_closed',
      'reselling_not_ready',
      'conflict',
      'price_below_minimum',
      'amount_too_small',
      'payment_provider_error',
    ],
  },
  {
    method: 'GET',
    path: '/v1/accounts/{accountId}/credit-purchases',
    fn: 'reselling',
    summary: "A sub-account's credit purchases, newest first",
    allow: allow.accountMembers,
    scope: { param: 'accountId', kind: 'account' },
    query: purchasesQuery,
    status: 200,
    response: res.CreditPurchaseList,
  },
  {
    method: 'POST',
    path: '/v1/credits/purchases',
    fn: 'reselling',
    summary:
      "The agency buys pool credits from the platform (Stripe Checkout on the platform's account). 201 {purchase, checkoutUrl}",
    allow: allow.agencyUser,
    body: purchaseBody,
    idempotent: true,
    status: 201,
    response: res.CreditPurchaseCreated,
    refusals: ['conflict', 'amount_too_small', 'payment_provider_error'],
  },
  {
    method: 'GET',
    path: '/v1/credits/packages',
    fn: 'reselling',
    summary:
      'What the platform sells pool credits at: its packages, per-credit price and the range one purchase of credits may span',
    allow: allow.agency,
    status: 200,
    response: res.CreditOffers,
  },
  {
    method: 'GET',
    path: '/v1/credits/purchases',
    fn: 'reselling',
    summary: "The agency's pool purchases from the platform, newest first",
    allow: allow.agency,
    query: purchasesQuery,
    status: 200,
    response: res.CreditPurchaseList,
  },
] as const satisfies readonly RouteDef[];

/** The reselling function (functions/http/reselling.ts). */
export const resellingFunction = {
  name: 'reselling',
  description:
    "Reselling through the agency's Stripe account, buying credits through Stripe Checkout, and the pool's auto top-up and low-balance alerts",
  // Calls Stripe with the platform's secret key.
  needs: [...standardNeeds, 'stripeApi', 'resellingConfig'],
  // Settings and pricing (the agency's partition), the Stripe account's owner, purchases, the dashboard's totals
  // and its consumption (the usage rollups).
  tableKeys: [
    ...authenticating,
    keyPrefixes.stripeAccount,
    keyPrefixes.purchase,
    keyPrefixes.reselling,
    keyPrefixes.rollup,
    keyPrefixes.lane,
    auditing,
  ],
  routes: [...resellingRoutes, ...autoTopUpRoutes],
} as const satisfies HttpFunctionManifest<'reselling'>;
