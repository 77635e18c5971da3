import { isIdOf } from '#core/ids';
import * as z from '#core/zod';
import { getPurchase } from '#db/items/purchase';
import type { WebhookOutcome } from '../reselling/event-types';
import { requestOptions, stripeCall } from '../reselling/stripe-client';
import { settleTopUp } from './attempt';
import { saveCardFromSession } from './settings';

/**
 * Stripe's events about auto top-up, on the platform's own account (reselling/webhooks.ts
 * verified the signature and routes them here). Each only says "look again": the object is
 * read from Stripe by the id the platform recorded, and believed only as far as it matches.
 */
export type Judged = WebhookOutcome | { ignored: string };

const setupShape = z.looseObject({ id: z.string(), mode: z.string(), client_reference_id: z.nullish(z.string()) });
const intentShape = z.looseObject({ id: z.string(), metadata: z.nullish(z.record(z.string(), z.string())) });

export const isSetupSession = (object: unknown) => setupShape.safeParse(object).data?.mode === 'setup';

/** checkout.session.completed of a setup session: the agency's saved card. */
export async function onSetupSession(object: unknown): Promise<Judged> {
  const s = setupShape.safeParse(object).data;
  const agencyId = s?.client_reference_id;
  if (!s || !agencyId || !isIdOf(agencyId, ['agency'])) return { ignored: 'a setup session naming no agency' };
  const outcome = await saveCardFromSession(agencyId, s.id);
  return outcome === 'card_saved' ? 'card_saved' : { ignored: outcome };
}

/**
 * payment_intent.succeeded / payment_failed: the purchase is found by the metadata's pointer,
 * and believed only if the PaymentIntent is the one recorded on it (recorded when Stripe
 * answered the platform's own call); then Stripe's PaymentIntent, read again by that id, is
 * settled. One not recorded yet is parked: the detector that made it records and settles it.
 */
export async function onPaymentIntent(object: unknown): Promise<Judged> {
  const pi = intentShape.safeParse(object).data;
  const purchaseId = pi?.metadata?.purchaseId;
  if (!pi || !purchaseId || !isIdOf(purchaseId, ['purchase'])) return { ignored: 'a PaymentIntent naming no purchase' };
  const p = await getPurchase(purchaseId);
  if (p?.trigger !== 'auto_top_up' || p.stripeAccountId !== null) return { ignored: 'not an auto top-up' };
  if (!p.paymentIntentId) return p.status === 'pending' ? 'parked' : { ignored: 'the auto top-up has no PaymentIntent' };
  if (p.paymentIntentId !== pi.id) return { ignored: "not the auto top-up's own PaymentIntent" };
  const intent = await stripeCall('read PaymentIntent', (s) =>
    s.retrievePaymentIntent(p.paymentIntentId as string, requestOptions({})),
  );
  switch (await settleTopUp(p, intent)) {
    case 'paid':
      return 'paid';
    case 'already':
      return 'already_paid';
    case 'failed':
      return 'failed';
    case 'pending':
      return 'awaiting_payment';
    default:
      return { ignored: 'Stripe’s PaymentIntent does not match the auto top-up' };
  }
}
