import { nowIso } from '#core/clock';
import { AppError, invalidField, notFound } from '#core/errors';
import { newId } from '#core/ids';
import { getAccount } from '#db/items/account';
import {
  getResellingSettings,
  type ResellingSettingsItem,
  recordStripeAccount,
  type StoredPackage,
  type StoredPricing,
  savePricing,
} from '#db/items/reselling-settings';
import { audited, changesOf } from '../audit/record';
import { resellingConfig, STRIPE_MAXIMUM_AMOUNT, stripeMinimumCharge } from './config';
import { amountTooSmall, priceBelowMinimum } from './errors';
import { coversPerCredit, formatPrice, parsePrice } from './money';
import type { PricingBody } from './schemas';
import { AccountGone, requestOptions, stripeCall, stripeKey } from './stripe-client';

/** Connect onboarding, the settings view and pricing: an agency's side of reselling. */

/**
 * Creates the agency's connected Stripe account once (the Stripe idempotency key is the
 * agency's, so concurrent or repeated calls get the same account) and a fresh onboarding link.
 * An account Stripe no longer knows (the local sandbox forgets everything on restart) is
 * replaced by a new one.
 */
export async function connectStripe(agencyId: string, requestId: string) {
  const agency = await getAccount(agencyId);
  if (agency?.type !== 'agency') throw notFound('Agency');
  let accountId = (await getResellingSettings(agencyId))?.stripeAccountId;
  if (accountId) {
    try {
      return { accountId, onboardingUrl: await onboardingLink(agencyId, accountId, requestId) };
    } catch (err) {
      if (!(err instanceof AccountGone)) throw err;
    }
  }
  const replacing = accountId;
  const { object: created } = await stripeCall('create connected account', (s) =>
    s.createAccount(
      {
        type: 'standard',
        ...(agency.email ? { email: agency.email } : {}),
        business_profile: { name: agency.name },
        metadata: { agencyId },
      },
      requestOptions({ idempotencyKey: stripeKey(agencyId, 'connect_account', replacing ?? '') }),
    ),
  );
  const audit = audited({
    agencyId,
    action: 'reselling.stripe_account_connected',
    target: { type: 'agency', id: agencyId },
    changes: [{ field: 'stripeAccountId', before: replacing ?? null, after: created.id }],
  });
  const recorded = await recordStripeAccount(agencyId, created.id, nowIso(), replacing, [audit]);
  accountId = recorded ? created.id : (await getResellingSettings(agencyId))?.stripeAccountId;
  if (!accountId)
    throw new AppError('try_again', 'The connected account is being recorded; retry', undefined, { retryAfterSeconds: 1 });
  return { accountId, onboardingUrl: await onboardingLink(agencyId, accountId, requestId) };
}

async function onboardingLink(agencyId: string, accountId: string, requestId: string): Promise<string> {
  const { appUrl } = resellingConfig();
  const { object: link } = await stripeCall('create account link', (s) =>
    s.createAccountLink(
      {
        account: accountId,
        type: 'account_onboarding',
        refresh_url: `${appUrl}/reselling/stripe/refresh`,
        return_url: `${appUrl}/reselling/stripe/return`,
      },
      requestOptions({ idempotencyKey: stripeKey(agencyId, 'account_link', accountId, requestId) }),
    ),
  );
  return link.url;
}

export function pricingView(pricing: StoredPricing | undefined) {
  if (!pricing) return null;
  return {
    currency: pricing.currency,
    perCreditPrice: pricing.perCreditPrice,
    packages: pricing.packages.map((p) => ({ id: p.id, name: p.name, credits: p.credits, price: p.price })),
  };
}

export function platformMinimums() {
  const config = resellingConfig();
  const perCurrency = (m: Record<string, bigint>) =>
    Object.fromEntries(config.currencies.map((c) => [c, formatPrice(m[c] ?? 0n)]));
  return {
    currencies: config.currencies,
    minimumCreditPrice: perCurrency(config.minimumCreditPrice),
    applicationFeePerCredit: perCurrency(config.applicationFee),
  };
}

export function settingsView(settings: ResellingSettingsItem | undefined) {
  return {
    stripe: settings?.stripeAccountId
      ? {
          accountId: settings.stripeAccountId,
          chargesEnabled: settings.chargesEnabled ?? false,
          detailsSubmitted: settings.detailsSubmitted ?? false,
        }
      : null,
    pricing: pricingView(settings?.pricing),
    autoRechargeWebhook: settings?.autoRechargeWebhook
      ? { url: settings.autoRechargeWebhook.url, enabled: settings.autoRechargeWebhook.enabled }
      : null,
    platform: platformMinimums(),
  };
}

export async function getSettings(agencyId: string) {
  return settingsView(await getResellingSettings(agencyId));
}

/**
 * Replaces the agency's pricing. Every price must be at least the platform minimum for its
 * currency (422 price_below_minimum, with the minimum) and every package at least Stripe's
 * smallest charge (422 amount_too_small); nothing is written otherwise. A package saved again
 * unchanged keeps its id, so offers a client has open stay valid.
 */
export async function putPricing(agencyId: string, body: PricingBody) {
  const config = resellingConfig();
  if (!config.currencies.includes(body.currency))
    throw invalidField('currency', `not supported; one of ${config.currencies.join(', ')}`);
  const minimum = config.minimumCreditPrice[body.currency] ?? 0n;
  const perCreditPrice = parsePrice(body.perCreditPrice);
  if (perCreditPrice < minimum) throw priceBelowMinimum('perCreditPrice', minimum, body.currency);
  const stripeMinimum = stripeMinimumCharge[body.currency] ?? 0;
  body.packages.forEach((p, i) => {
    if (p.credits > config.maxPurchaseCredits)
      throw invalidField(`packages.${i}.credits`, `must be at most ${config.maxPurchaseCredits}`);
    if (!coversPerCredit(p.price, p.credits, minimum)) throw priceBelowMinimum(`packages.${i}.price`, minimum, body.currency);
    if (p.price < stripeMinimum) throw amountTooSmall(`packages.${i}.price`, stripeMinimum, body.currency);
    if (p.price > STRIPE_MAXIMUM_AMOUNT) throw invalidField(`packages.${i}.price`, `must be at most ${STRIPE_MAXIMUM_AMOUNT}`);
  });

  const at = nowIso();
  for (let round = 0; round < 3; round++) {
    const seen = await getResellingSettings(agencyId);
    const previous = seen?.pricing;
    const same = (a: Omit<StoredPackage, 'id'>, b: Omit<StoredPackage, 'id'>) =>
      a.name === b.name && a.credits === b.credits && a.price === b.price;
    const kept = new Set<string>();
    const packages: StoredPackage[] = body.packages.map((p) => {
      const old = previous?.currency === body.currency ? previous.packages.find((o) => same(o, p) && !kept.has(o.id)) : undefined;
      if (old) kept.add(old.id);
      return { id: old?.id ?? newId('creditPackage'), name: p.name, credits: p.credits, price: p.price };
    });
    const pricing: StoredPricing = { currency: body.currency, perCreditPrice: formatPrice(perCreditPrice), packages };
    const changes = changesOf(pricingView(previous) ?? undefined, pricingView(pricing) ?? {}, [
      'currency',
      'perCreditPrice',
      'packages',
    ]);
    const audit = changes.length
      ? [audited({ agencyId, action: 'reselling.pricing_updated', target: { type: 'agency', id: agencyId }, changes })]
      : [];
    if (await savePricing(agencyId, pricing, at, seen?.pricingVersion, audit)) return { pricing: pricingView(pricing) };
  }
  throw new AppError('try_again', 'The pricing changed while it was being saved; retry', undefined, { retryAfterSeconds: 1 });
}
