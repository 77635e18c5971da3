import type Stripe from 'stripe';
import { invalidRequest } from './errors';
import { NO_REQUEST } from './events';
import type { Ctx } from './flows';
import { newId, nowSeconds } from './ids';
import type { Scoped } from './store';

/**
 * Chargebacks, as a card network raises them against a succeeded charge (`POST
 * /sandbox/charges/{ch}/dispute`) and as they are decided (`POST /sandbox/disputes/{dp}/close`):
 * the Dispute object and the events Stripe sends, in Stripe's order. The sandbox collects no
 * evidence, so those parts of the object stay empty.
 */
export function openDispute(ctx: Ctx, charge: Scoped<Stripe.Charge>, input: { amount?: number; reason?: string }) {
  const c = charge.object;
  if (c.status !== 'succeeded') throw invalidRequest(`Charge ${c.id} has not succeeded; only succeeded charges can be disputed.`);
  if (c.disputed) throw invalidRequest(`Charge ${c.id} is already disputed.`, undefined, 'charge_disputed');
  const amount = input.amount ?? c.amount - c.amount_refunded;
  if (!Number.isSafeInteger(amount) || amount < 1 || amount > c.amount)
    throw invalidRequest(`Invalid dispute amount: ${String(input.amount)}`, 'amount');
  const dispute = buildDispute(c, amount, input.reason ?? 'fraudulent', nowSeconds());
  ctx.store.disputes.set(dispute.id, { scope: charge.scope, object: dispute });
  c.disputed = true;
  ctx.events.emit('charge.dispute.created', dispute, { scope: charge.scope, request: NO_REQUEST });
  ctx.events.emit('charge.dispute.funds_withdrawn', dispute, { scope: charge.scope, request: NO_REQUEST });
  return dispute;
}

export function closeDispute(ctx: Ctx, record: Scoped<Stripe.Dispute>, outcome: 'won' | 'lost') {
  const d = record.object;
  if (d.status === 'won' || d.status === 'lost')
    throw invalidRequest(`Dispute ${d.id} was decided already (${d.status}).`, undefined, 'dispute_already_closed');
  const previous = { status: d.status };
  d.status = outcome;
  d.is_charge_refundable = false;
  ctx.events.emit('charge.dispute.closed', d, { scope: record.scope, request: NO_REQUEST, previous });
  if (outcome === 'won') ctx.events.emit('charge.dispute.funds_reinstated', d, { scope: record.scope, request: NO_REQUEST });
  return d;
}

function buildDispute(c: Stripe.Charge, amount: number, reason: string, created: number): Stripe.Dispute {
  return {
    id: newId('dp'),
    object: 'dispute',
    amount,
    balance_transactions: [],
    charge: c.id,
    created,
    currency: c.currency,
    enhanced_eligibility_types: [],
    // No evidence is collected here: every evidence field would be null.
    evidence: {} as Stripe.Dispute.Evidence,
    evidence_details: {
      due_by: created + 7 * 24 * 3600,
      has_evidence: false,
      past_due: false,
      submission_count: 0,
    } as Stripe.Dispute.EvidenceDetails,
    intended_submission_method: null,
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    payment_intent: typeof c.payment_intent === 'string' ? c.payment_intent : (c.payment_intent?.id ?? null),
    reason,
    status: 'needs_response',
  };
}
