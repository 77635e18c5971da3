import { createHmac } from 'node:crypto';

/**
 * Stripe's webhook signature: `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "<t>.<raw body>" keyed with the endpoint's whsec_… secret>`. The secret is used as is
 * (the whole `whsec_…` string), exactly as `stripe.webhooks.constructEvent` checks it.
 * Each delivery attempt is signed afresh with its own timestamp, as Stripe does.
 */
export function signPayload(body: string, secret: string, timestamp: number): string {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${v1}`;
}
