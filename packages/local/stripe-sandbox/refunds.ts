import type Stripe from 'stripe';
import { invalidRequest } from './errors';
import { type EventRequest, NO_REQUEST } from './events';
import type { Ctx } from './flows';
import { nowSeconds } from './ids';
import { formatAmount } from './money';
import { buildRefund } from './objects-payment';
import type { Scope } from './store';

export interface RefundInput {
  charge?: string;
  paymentIntent?: string;
  amount?: number;
  reason?: Stripe.Refund.Reason;
  metadata?: Record<string, string>;
}

/** Refunds all or part of a succeeded charge; `charge.amount_refunded` accumulates. */
export function refund(ctx: Ctx, scope: Scope | undefined, input: RefundInput, request: EventRequest): Stripe.Refund {
  const charge = chargeToRefund(ctx, scope, input);
  const remaining = charge.object.amount - charge.object.amount_refunded;
  if (remaining <= 0)
    throw invalidRequest(`Charge ${charge.object.id} has already been refunded.`, undefined, 'charge_already_refunded');
  const amount = input.amount ?? remaining;
  if (amount > remaining)
    throw invalidRequest(
      `Refund amount (${formatAmount(amount, charge.object.currency)}) is greater than unrefunded amount on charge (${formatAmount(remaining, charge.object.currency)})`,
      'amount',
      'amount_too_large',
    );
  const c = charge.object;
  const created = buildRefund(c, amount, input.reason ?? null, input.metadata ?? {}, nowSeconds());
  ctx.store.refunds.set(created.id, { scope: charge.scope, object: created });
  const previous = { amount_refunded: c.amount_refunded, refunded: c.refunded };
  c.amount_refunded += amount;
  c.refunded = c.amount_refunded === c.amount;
  ctx.events.emit('refund.created', created, { scope: charge.scope, request });
  ctx.events.emit('charge.refunded', c, { scope: charge.scope, request, previous });
  return created;
}

function chargeToRefund(ctx: Ctx, scope: Scope | undefined, input: RefundInput) {
  const charge = findCharge(ctx, scope, input);
  if (charge.object.disputed)
    throw invalidRequest(
      `Charge ${charge.object.id} has been charged back; cannot issue a refund.`,
      undefined,
      'charge_disputed',
    );
  return charge;
}

function findCharge(ctx: Ctx, scope: Scope | undefined, input: RefundInput) {
  if (input.charge && input.paymentIntent)
    throw invalidRequest(
      'You may only specify one of these parameters: charge, payment_intent.',
      'payment_intent',
      'parameters_exclusive',
    );
  if (input.charge) {
    const charge = ctx.store.charge(input.charge, scope);
    if (charge.object.status !== 'succeeded')
      throw invalidRequest(`Charge ${charge.object.id} has not succeeded; only succeeded charges can be refunded.`, 'charge');
    return charge;
  }
  if (!input.paymentIntent)
    throw invalidRequest('One of the following params should be provided for this request: charge or payment_intent.');
  const intent = ctx.store.intent(input.paymentIntent, scope).object;
  const latest = typeof intent.latest_charge === 'string' ? ctx.store.charges.get(intent.latest_charge) : undefined;
  if (intent.status !== 'succeeded' || !latest)
    throw invalidRequest('This PaymentIntent does not have a successful charge to refund.', 'payment_intent');
  return latest;
}

/**
 * A refund the bank could not complete (`POST /sandbox/refunds/{re}/fail`): the refund becomes
 * `failed` (or `canceled`), its amount returns to the charge (amount_refunded goes down), and
 * Stripe sends charge.refund.updated (and refund.updated, refund.failed).
 */
export function failRefund(ctx: Ctx, id: string, status: 'failed' | 'canceled'): Stripe.Refund {
  const record = ctx.store.refund(id, undefined);
  const r = record.object;
  if (r.status === 'failed' || r.status === 'canceled')
    throw invalidRequest(`Refund ${r.id} has already ${r.status === 'failed' ? 'failed' : 'been canceled'}.`);
  const charge = typeof r.charge === 'string' ? ctx.store.charges.get(r.charge) : undefined;
  const previous = { status: r.status };
  r.status = status;
  if (status === 'failed') r.failure_reason = 'expired_or_canceled_card';
  if (charge) {
    charge.object.amount_refunded -= r.amount;
    charge.object.refunded = false;
  }
  ctx.events.emit('charge.refund.updated', r, { scope: record.scope, request: NO_REQUEST, previous });
  ctx.events.emit('refund.updated', r, { scope: record.scope, request: NO_REQUEST, previous });
  if (status === 'failed') ctx.events.emit('refund.failed', r, { scope: record.scope, request: NO_REQUEST });
  return r;
}
