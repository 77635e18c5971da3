/**
 * The Stripe events the platform acts on: what both webhook endpoints subscribe to at Stripe
 * (their enabled_events), and what the local sandbox sends. Anything else is ignored.
 */
export const stripeEventTypes = [
  'checkout.session.completed',
  'checkout.session.async_payment_succeeded',
  'checkout.session.async_payment_failed',
  'checkout.session.expired',
  'charge.refunded',
  'account.updated',
] as const;
