import Stripe from 'stripe';

/**
 * Stripe's webhook signature (`Stripe-Signature: t=<unix seconds>,v1=<HMAC-SHA256 of
 * "<t>.<raw body>">`), made by Stripe's own library (`webhooks.generateTestHeaderString`,
 * the helper it publishes for exactly this), so the platform's verifier is checked against
 * Stripe's signer, not against a copy of it. Each delivery attempt is signed afresh with its
 * own timestamp, as Stripe does.
 */
export function signPayload(body: string, secret: string, timestamp: number): string {
  return Stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp });
}
