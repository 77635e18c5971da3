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
  'charge.refund.updated',
  'charge.dispute.created',
  'charge.dispute.updated',
  'charge.dispute.closed',
  'charge.dispute.funds_withdrawn',
  'charge.dispute.funds_reinstated',
  'account.updated',
  'account.application.deauthorized',
  // Auto top-up (packages/domain/auto-top-up): the off-session payments of the platform's own account.
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
] as const;

/** What the platform did with a verified event (the webhook's answer says it, and the log). */
export const webhookOutcomes = [
  'paid',
  'already_paid',
  'awaiting_payment',
  'failed',
  'expired',
  'refunded_account_closed',
  'settled',
  'parked',
  'account_updated',
  'account_deauthorized',
  'card_saved',
  'duplicate',
  'ignored',
] as const;
export type WebhookOutcome = (typeof webhookOutcomes)[number];

/** A purchase's states (db/items/purchase.ts has the transitions). */
export const purchaseStatuses = ['pending', 'paid', 'failed', 'expired', 'refunded', 'disputed'] as const;
