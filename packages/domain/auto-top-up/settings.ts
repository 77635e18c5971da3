import type Stripe from 'stripe';
import { now as clockNow } from '#core/clock';
import { AppError, invalidField, notFound } from '#core/errors';
import { logger } from '#core/logger';
import { getAccount } from '#db/items/account';
import {
  type AlertLevelsItem,
  type AutoTopUpItem,
  blankAutoTopUp,
  getAlertLevels,
  getAutoTopUp,
  putAlertLevels,
  putAutoTopUp,
  type SavedCard,
} from '#db/items/auto-top-up';
import { committedOrStale, transactIf, unhandled } from '#db/transact';
import { audited, changesOf } from '../audit/record';
import { resellingConfig } from '../reselling/config';
import { creditBounds, platformTerms } from '../reselling/offers';
import { StripeRequestError } from '../reselling/stripe-api';
import { requestOptions, stripeCall, stripeKey } from '../reselling/stripe-client';
import type { AlertsBody, AutoTopUpBody } from './schemas';

/**
 * The agency's side of auto top-up: its saved card (a setup-mode Checkout Session on the
 * platform's account for the agency's Stripe Customer, made once), the settings, and the
 * low-balance alert levels. Only Stripe's ids and the card's brand, last 4 and expiry are kept.
 */
const ROUNDS = 5;

export function autoTopUpView(s: AutoTopUpItem | undefined) {
  return {
    enabled: s?.enabled ?? false,
    threshold: s?.threshold ?? null,
    credits: s?.credits ?? null,
    paymentMethod: s?.paymentMethod
      ? {
          brand: s.paymentMethod.brand,
          last4: s.paymentMethod.last4,
          expMonth: s.paymentMethod.expMonth,
          expYear: s.paymentMethod.expYear,
        }
      : null,
    lastAttempt: s?.lastAttempt
      ? { status: s.lastAttempt.status, at: s.lastAttempt.at, ...(s.lastAttempt.reason ? { reason: s.lastAttempt.reason } : {}) }
      : null,
    failuresInARow: s?.failuresInARow ?? 0,
    ...(s?.disabledReason ? { disabledReason: s.disabledReason } : {}),
  };
}

type AutoTopUpView = ReturnType<typeof autoTopUpView>;

export const getAutoTopUpView = async (agencyId: string) => autoTopUpView(await getAutoTopUp(agencyId));

/** Read-modify-write of the settings on their version; `change` may throw a refusal. */
async function update(
  agencyId: string,
  change: (s: AutoTopUpItem) => AutoTopUpItem,
  /**
   * The agency's own settings change: its audit record, in the same transaction (the version
   * makes "before" exact), over the fields as the API shows them (a card by brand and last 4).
   * `always`: recorded even when no shown field changed (a card setup started).
   */
  audit?: { action: string; fields: readonly (keyof AutoTopUpView & string)[]; always?: boolean },
): Promise<AutoTopUpItem> {
  for (let round = 0; round < ROUNDS; round++) {
    const at = clockNow().toISOString();
    const seen = await getAutoTopUp(agencyId);
    const base = seen ?? blankAutoTopUp(agencyId, at);
    const next = change({ ...base, updatedAt: at });
    const changes = audit ? changesOf(autoTopUpView(seen), autoTopUpView(next), audit.fields) : [];
    const record =
      audit && (changes.length || audit.always)
        ? [audited({ agencyId, action: audit.action, target: { type: 'agency', id: agencyId }, changes })]
        : [];
    const result = await committedOrStale([{ name: 'state', write: putAutoTopUp(next, seen?.version ?? 0) }, ...record]);
    switch (result.kind) {
      case 'committed':
        return { ...next, version: (seen?.version ?? 0) + 1 };
      case 'stale':
        continue; // the settings moved since they were read: change them as they are now
      default:
        return unhandled(result);
    }
  }
  throw new AppError('try_again', 'The auto top-up settings are busy; retry', undefined, { retryAfterSeconds: 1 });
}

/**
 * The agency's Stripe Customer on the platform's account, created once: the Stripe key is the
 * agency's, so two concurrent first calls get the same Customer, and it is recorded only if none is.
 */
async function customerOf(agencyId: string): Promise<string> {
  const known = (await getAutoTopUp(agencyId))?.stripeCustomerId;
  if (known) return known;
  const agency = await getAccount(agencyId);
  if (agency?.type !== 'agency') throw notFound('Agency');
  const { object: customer } = await stripeCall('create customer', (s) =>
    s.createCustomer(
      { name: agency.name, ...(agency.email ? { email: agency.email } : {}), metadata: { agencyId } },
      requestOptions({ idempotencyKey: stripeKey(agencyId, 'customer') }),
    ),
  );
  // Stripe's bookkeeping, made on the way to the card setup that this request records.
  const saved = await update(agencyId, (s) => (s.stripeCustomerId ? s : { ...s, stripeCustomerId: customer.id }));
  return saved.stripeCustomerId ?? customer.id;
}

/** POST …/payment-method: a setup-mode Checkout Session for the agency's Customer; only its completion saves a card. */
export async function saveCardCheckout(agencyId: string, requestId: string) {
  const customer = await customerOf(agencyId);
  const { appUrl } = resellingConfig();
  const back = `${appUrl}/credits/auto-top-up`;
  const { object: session } = await stripeCall('create setup session', (s) =>
    s.createCheckoutSession(
      {
        mode: 'setup',
        customer,
        currency: resellingConfig().platform.currency,
        client_reference_id: agencyId,
        metadata: { agencyId, purpose: 'auto_top_up' },
        success_url: `${back}?setup=success&session_id={CHECKOUT_SESSION_ID}`,
        cancel_url: `${back}?setup=canceled`,
      },
      requestOptions({ idempotencyKey: stripeKey(agencyId, 'setup_session', requestId) }),
    ),
  );
  if (!session.url) throw new Error(`Checkout Session ${session.id} came back without a url`);
  await update(agencyId, (s) => ({ ...s, setupSessionId: session.id }), {
    action: 'auto_top_up.card_setup_started',
    fields: [],
    always: true,
  });
  return { checkoutUrl: session.url };
}

/**
 * `checkout.session.completed` of a setup session: believed only for the session the platform
 * made last for that agency, read again from Stripe (its SetupIntent's payment method, for the
 * agency's own Customer). The card replaces any saved before (which is detached at Stripe).
 */
export async function saveCardFromSession(agencyId: string, sessionId: string): Promise<'card_saved' | string> {
  const state = await getAutoTopUp(agencyId);
  if (!state?.setupSessionId || state.setupSessionId !== sessionId)
    return 'not the setup session the platform made last for the agency';
  const session = await stripeCall('read setup session', (s) =>
    s.retrieveCheckoutSession(sessionId, ['setup_intent.payment_method'], requestOptions({})),
  );
  const intent = session.setup_intent as Stripe.SetupIntent | null;
  const pm = intent?.payment_method as Stripe.PaymentMethod | null | undefined;
  const customer = typeof session.customer === 'string' ? session.customer : session.customer?.id;
  if (session.mode !== 'setup' || session.status !== 'complete' || intent?.status !== 'succeeded')
    return 'the setup is not complete';
  if (!customer || customer !== state.stripeCustomerId || !pm?.card || pm.customer !== customer)
    return "not a card of the agency's own Customer";
  const card: SavedCard = {
    id: pm.id,
    brand: pm.card.brand,
    last4: pm.card.last4,
    expMonth: pm.card.exp_month,
    expYear: pm.card.exp_year,
  };
  let replaced: string | undefined;
  await update(agencyId, (s) => {
    replaced = s.paymentMethod?.id !== card.id ? s.paymentMethod?.id : undefined;
    const next = { ...s, paymentMethod: card };
    delete next.setupSessionId;
    return next;
  });
  if (replaced)
    await detach(replaced).catch((err) => logger.warn('the replaced card was not detached', { error: (err as Error).message }));
  return 'card_saved';
}

async function detach(paymentMethodId: string): Promise<void> {
  await stripeCall('detach payment method', async (s) => {
    try {
      await s.detachPaymentMethod(paymentMethodId, requestOptions({ idempotencyKey: stripeKey(paymentMethodId, 'detach') }));
    } catch (err) {
      // Detached already (or gone): nothing to do.
      if (!(err instanceof StripeRequestError && (err.status === 400 || err.status === 404))) throw err;
    }
  });
}

/** DELETE …/payment-method: detached at Stripe, forgotten here, auto top-up off. */
export async function removeCard(agencyId: string): Promise<void> {
  const saved = (await getAutoTopUp(agencyId))?.paymentMethod;
  if (saved) await detach(saved.id);
  if (!saved && !(await getAutoTopUp(agencyId))) return;
  await update(
    agencyId,
    (s) => {
      const next: AutoTopUpItem = { ...s, enabled: false };
      delete next.paymentMethod;
      if (s.enabled) next.disabledReason = 'payment_method_removed';
      return next;
    },
    { action: 'auto_top_up.card_removed', fields: ['paymentMethod', 'enabled'] },
  );
}

/** PUT: the settings; enabling needs a saved card (409 no_payment_method) and arms the next crossing. */
export async function putAutoTopUpSettings(agencyId: string, body: AutoTopUpBody) {
  const { minimumCredits, maximumCredits } = creditBounds(platformTerms());
  if (body.credits < minimumCredits) throw invalidField('credits', `must be at least ${minimumCredits}`);
  if (body.credits > maximumCredits) throw invalidField('credits', `must be at most ${maximumCredits}`);
  const saved = await update(
    agencyId,
    (s) => {
      if (body.enabled && !s.paymentMethod)
        throw new AppError('no_payment_method', 'Save a card first: POST /v1/credits/auto-top-up/payment-method');
      const next: AutoTopUpItem = { ...s, ...body };
      if (body.enabled) {
        next.armed = true;
        if (!s.enabled) next.failuresInARow = 0;
        delete next.disabledReason;
      }
      return next;
    },
    { action: 'auto_top_up.updated', fields: ['enabled', 'threshold', 'credits'] },
  );
  return autoTopUpView(saved);
}

export function alertsView(a: AlertLevelsItem | undefined) {
  return { poolBelow: a?.poolBelow ?? null, walletBelow: a?.walletBelow ?? null };
}

export const getAlerts = async (agencyId: string) => alertsView(await getAlertLevels(agencyId));

/**
 * PUT alerts: a field left out keeps its level; null turns it off. Written over the levels read
 * (their version), so the audit record's "before" is what was replaced; a concurrent PUT makes
 * us read again.
 */
export async function putAlerts(agencyId: string, body: AlertsBody) {
  for (let round = 0; round < ROUNDS; round++) {
    const seen = await getAlertLevels(agencyId);
    const next: AlertLevelsItem = {
      kind: 'low_balance_alerts',
      agencyId,
      poolBelow: body.poolBelow === undefined ? (seen?.poolBelow ?? null) : body.poolBelow,
      walletBelow: body.walletBelow === undefined ? (seen?.walletBelow ?? null) : body.walletBelow,
      updatedAt: clockNow().toISOString(),
    };
    const changes = changesOf(seen, next, ['poolBelow', 'walletBelow']);
    const record = changes.length
      ? [audited({ agencyId, action: 'alerts.updated', target: { type: 'agency', id: agencyId }, changes })]
      : [];
    if (await transactIf('levels', [{ name: 'levels', write: putAlertLevels(next, seen) }, ...record])) return alertsView(next);
  }
  throw new AppError('try_again', 'The alert levels are busy; retry', undefined, { retryAfterSeconds: 1 });
}
