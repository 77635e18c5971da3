import { nowIso, nowMs } from '#core/clock';
import { AppError, notFound } from '#core/errors';
import { newId } from '#core/ids';
import type { AccountItem } from '#db/items/account';
import type { BalanceKind } from '#db/items/balance';
import { attachSession, createPurchase, getPurchase, getPurchaseKey, listPurchases, type PurchaseItem } from '#db/items/purchase';
import { itemKinds } from '#db/schema';
import { accountClosed } from '../accounts/errors';
import { audited } from '../audit/record';
import { actorOf, type Principal } from '../auth/principal';
import { requestHash } from '../ledger/entries';
import { resellingConfig } from './config';
import { type Line, platformTerms, priceLine, sellerOf, type Terms } from './offers';
import type { PurchaseBody, PurchasesQuery } from './schemas';
import { requestOptions, stripeCall, stripeKey } from './stripe-client';

/**
 * Buying credits through Stripe Checkout, for a reselling sub-account (from its agency, a direct
 * charge on the agency's connected account) or for an agency's pool (from the platform).
 *
 * The purchase is written first (invisible, with a ttl), then the Checkout Session is created
 * with Stripe's idempotency key derived from ours, then attached. Stripe failing or slow → 503
 * and nothing visible; a retry with the same Idempotency-Key finds the purchase and asks Stripe
 * again with the same key and the same parameters, so Stripe answers with the session it made
 * (or makes it once). A half-made purchase whose client never retries expires by its ttl.
 */
const UNATTACHED_TTL_SECONDS = 7 * 24 * 3600;
/** Stripe wants expires_at at least 30 minutes ahead when the session is created. */
const STRIPE_MIN_EXPIRY_SECONDS = 30 * 60;

export function purchaseView(p: PurchaseItem) {
  return {
    id: p.id,
    status: p.status,
    credits: p.credits,
    amount: p.amount,
    currency: p.currency,
    packageId: p.packageId ?? null,
    checkoutSessionId: p.checkoutSessionId ?? null,
    trigger: p.trigger ?? 'manual',
    createdAt: p.createdAt,
    paidAt: p.paidAt ?? null,
    amountRefunded: p.amountRefunded ?? 0,
    creditsRefunded: p.creditsRefunded ?? 0,
    amountDisputed: p.amountDisputed ?? 0,
    creditsDisputed: p.creditsDisputed ?? 0,
  };
}

interface Buyer {
  agencyId: string;
  accountId: string;
  balance: BalanceKind;
  /** The seller's terms, checked now (readiness, pricing); runs only for a new purchase. */
  seller: () => Promise<{ stripeAccountId: string | null; terms: Terms }>;
}

/**
 * A reselling sub-account buys from its agency. A closed one buys nothing, not even through a
 * retry of an earlier request: credits paid for it could never be spent (a payment that lands
 * after the account closed anyway is refunded, see landing.ts).
 */
export function buyFromAgency(principal: Principal, sub: AccountItem, body: PurchaseBody, key: string) {
  if (sub.type !== 'sub_account') throw notFound('Account');
  if (sub.status === 'closed') throw accountClosed(sub.id);
  return buy(
    principal,
    {
      agencyId: sub.agencyId,
      accountId: sub.id,
      balance: 'wallet',
      seller: async () => {
        if ((sub.creditMode ?? 'manual') !== 'reselling')
          throw new AppError('wrong_credit_mode', 'Only sub-accounts in reselling mode buy their own credits');
        const { stripeAccountId, terms } = await sellerOf(sub);
        return { stripeAccountId, terms };
      },
    },
    body,
    key,
  );
}

/** An agency buys credits for its pool from the platform, at the platform's prices. */
export function buyFromPlatform(principal: Principal, agencyId: string, body: PurchaseBody, key: string) {
  return buy(
    principal,
    { agencyId, accountId: agencyId, balance: 'pool', seller: async () => ({ stripeAccountId: null, terms: platformTerms() }) },
    body,
    key,
  );
}

async function buy(principal: Principal, buyer: Buyer, body: PurchaseBody, key: string) {
  const fingerprint = requestHash('credit_purchase', buyer.accountId, body);
  let purchase = await byKey(buyer.accountId, key, fingerprint);
  if (!purchase) {
    const { stripeAccountId, terms } = await buyer.seller();
    const fresh = newPurchase(principal, buyer, stripeAccountId, priceLine(body, terms), key, fingerprint);
    purchase = (await createPurchase(fresh)) ? fresh : await byKey(buyer.accountId, key, fingerprint);
    if (!purchase) throw new AppError('try_again', 'The purchase is being created; retry', undefined, { retryAfterSeconds: 1 });
  }
  return checkout(purchase);
}

function newPurchase(
  principal: Principal,
  buyer: Buyer,
  stripeAccountId: string | null,
  line: Line,
  key: string,
  fingerprint: string,
): PurchaseItem {
  const now = nowMs();
  const at = new Date(now).toISOString();
  return {
    kind: itemKinds.purchase,
    id: newId('purchase', now),
    agencyId: buyer.agencyId,
    accountId: buyer.accountId,
    balance: buyer.balance,
    stripeAccountId,
    status: 'pending',
    ...line,
    actor: actorOf(principal),
    idempotencyKey: key,
    requestHash: fingerprint,
    expiresAt: Math.floor(now / 1000) + resellingConfig().checkoutExpiryMinutes * 60,
    createdAt: at,
    updatedAt: at,
    ttl: Math.floor(now / 1000) + UNATTACHED_TTL_SECONDS,
  };
}

/** The purchase an earlier request with this key made; the same key with another body → 409. */
async function byKey(accountId: string, key: string, fingerprint: string): Promise<PurchaseItem | undefined> {
  const found = await getPurchaseKey(accountId, key);
  if (!found) return undefined;
  if (found.requestHash !== fingerprint)
    throw new AppError('idempotency_key_reused', 'Idempotency-Key was already used with a different request');
  const purchase = await getPurchase(found.purchaseId);
  if (!purchase) throw new AppError('conflict', 'The purchase made with this Idempotency-Key has expired; use a new key');
  return purchase;
}

async function checkout(purchase: PurchaseItem) {
  if (purchase.checkoutSessionId && purchase.checkoutUrl)
    return { body: { purchase: purchaseView(purchase), checkoutUrl: purchase.checkoutUrl }, replayed: true };
  if (Math.floor(nowMs() / 1000) > purchase.expiresAt - STRIPE_MIN_EXPIRY_SECONDS)
    throw new AppError('conflict', 'This purchase can no longer be checked out; start a new one with a new Idempotency-Key');
  const answer = await stripeCall('create checkout session', (s) =>
    s.createCheckoutSession(
      sessionParams(purchase),
      requestOptions({
        idempotencyKey: stripeKey(purchase.agencyId, purchase.accountId, 'credit_purchase', purchase.idempotencyKey),
        stripeAccount: purchase.stripeAccountId,
      }),
    ),
  );
  const session = answer.object;
  if (!session.url) throw new Error(`Checkout Session ${session.id} came back without a url`);
  // The checkout the buyer was sent to; the credits, once paid, are their own ledger entry.
  const audit = audited({
    agencyId: purchase.agencyId,
    action: 'credit_purchase.checkout_started',
    target: { type: 'purchase', id: purchase.id },
    changes: [
      { field: 'accountId', before: null, after: purchase.accountId },
      { field: 'credits', before: null, after: purchase.credits },
      { field: 'amount', before: null, after: purchase.amount },
      { field: 'currency', before: null, after: purchase.currency },
    ],
  });
  await attachSession(purchase, { id: session.id, url: session.url }, nowIso(), [audit]);
  const attached = { ...purchase, checkoutSessionId: session.id, checkoutUrl: session.url };
  return { body: { purchase: purchaseView(attached), checkoutUrl: session.url }, replayed: false };
}

/** The Checkout Session: one line of exactly our amount (so Stripe's rounding never differs from ours), naming our purchase. */
function sessionParams(p: PurchaseItem) {
  const { appUrl } = resellingConfig();
  const what = `${p.credits.toLocaleString('en-US')} credits`;
  const metadata = { purchaseId: p.id, accountId: p.accountId, agencyId: p.agencyId };
  const back = `${appUrl}/credits/purchases/${p.id}`;
  return {
    mode: 'payment' as const,
    line_items: [
      {
        price_data: {
          currency: p.currency,
          unit_amount: p.amount,
          product_data: { name: p.packageName ?? what, description: what },
        },
        quantity: 1,
      },
    ],
    client_reference_id: p.id,
    metadata,
    payment_intent_data: {
      metadata,
      description: what,
      ...(p.applicationFeeAmount !== null ? { application_fee_amount: p.applicationFeeAmount } : {}),
    },
    success_url: `${back}?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `${back}?checkout=canceled`,
    expires_at: p.expiresAt,
  };
}

export async function listAccountPurchases(account: AccountItem, q: PurchasesQuery) {
  if (account.type !== 'sub_account') throw notFound('Purchases');
  return listed(account.id, q);
}

export const listPoolPurchases = (agencyId: string, q: PurchasesQuery) => listed(agencyId, q);

async function listed(accountId: string, q: PurchasesQuery) {
  const page = await listPurchases(accountId, q);
  return { items: page.items.map(purchaseView), nextCursor: page.nextCursor };
}
