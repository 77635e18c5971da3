import { keyPrefixes } from '#db/schema';
import { allow } from '#domain/auth/principal';
import * as res from '../responses';
import type { HttpFunctionManifest, RouteDef } from '../route-def';

/**
 * Stripe's webhooks. No bearer token: the `Stripe-Signature` over the raw body is the
 * authentication, so these routes take no `body` schema (the pipeline leaves the bytes alone)
 * and verify in the action. 400 for a bad signature; 200 for anything verified, acted on or not.
 */
export const stripeWebhookRoutes = [
  {
    method: 'POST',
    path: '/v1/webhooks/stripe/connect',
    fn: 'stripe-webhooks',
    summary: "Events of the agencies' connected accounts (STRIPE_CONNECT_WEBHOOK_SECRET)",
    allow: allow.anyone,
    status: 200,
    response: res.StripeWebhookReceived,
    refusals: ['invalid_request', 'payload_too_large'],
  },
  {
    method: 'POST',
    path: '/v1/webhooks/stripe',
    fn: 'stripe-webhooks',
    summary: "Events of the platform's own Stripe account (STRIPE_WEBHOOK_SECRET)",
    allow: allow.anyone,
    status: 200,
    response: res.StripeWebhookReceived,
    refusals: ['invalid_request', 'payload_too_large'],
  },
] as const satisfies readonly RouteDef[];

/** The stripe-webhooks function (functions/http/stripe-webhooks.ts). */
export const stripeWebhooksFunction = {
  name: 'stripe-webhooks',
  description: "Stripe's signed events: payments, refunds and connected accounts",
  // Verifies Stripe's signatures; never calls Stripe, authenticates no bearer token.
  needs: ['table', 'stripeWebhooks', 'resellingConfig'],
  // Events seen, purchases and their credits (balances, entries, the reselling counters), the Stripe account's owner,
  // payments bound to purchases (or parked refunds and disputes), and the emails telling the agency.
  tableKeys: [
    keyPrefixes.stripeEvent,
    keyPrefixes.stripeAccount,
    keyPrefixes.stripePayment,
    keyPrefixes.purchase,
    keyPrefixes.account,
    keyPrefixes.ledger,
    keyPrefixes.reselling,
    keyPrefixes.outbox,
    keyPrefixes.lane,
  ],
  routes: stripeWebhookRoutes,
} as const satisfies HttpFunctionManifest<'stripe-webhooks'>;
