import { invalidField, notFound } from '#core/errors';
import { type AccountItem, getAccount, type SubAccountItem } from '#db/items/account';
import { getResellingSettings, type StoredPricing } from '#db/items/reselling-settings';
import { resellingConfig, STRIPE_MAXIMUM_AMOUNT, stripeMinimumCharge } from './config';
import { amountTooSmall, priceBelowMinimum, resellingNotEnabled, resellingNotReady } from './errors';
import { amountFor, coversPerCredit, creditsReaching, creditsWithin, formatPrice, type Price, parsePrice } from './money';
import type { PurchaseBody } from './schemas';

/** What a buyer can buy, and what one purchase of it costs: the agency's offers or the platform's. */
export interface Terms {
  currency: string;
  perCreditPrice: string;
  packages: Array<{ id: string; name: string; credits: number; price: number }>;
  /** The platform minimum per credit (agency pricing only): re-checked at every purchase. */
  minimum: Price | null;
  /** The platform's application fee per credit (agency pricing only). */
  feePerCredit: Price | null;
}

/** One purchase, priced now: what Stripe will charge and what lands. */
export interface Line {
  credits: number;
  amount: number;
  currency: string;
  perCreditPrice: string;
  applicationFeeAmount: number | null;
  packageId?: string;
  packageName?: string;
}

/** The agency behind a reselling sub-account, ready to sell: else 403 (plan), 409 reselling_not_ready. */
export async function sellerOf(sub: SubAccountItem) {
  const agency = await getAccount(sub.agencyId);
  if (!agency?.features.includes('reselling')) throw resellingNotEnabled();
  const settings = await getResellingSettings(agency.id);
  if (!settings?.stripeAccountId) throw resellingNotReady('no Stripe account is connected');
  if (!settings.chargesEnabled)
    throw resellingNotReady('its Stripe account cannot take payments yet (onboarding is not finished)');
  if (!settings.pricing) throw resellingNotReady('no pricing is set');
  const config = resellingConfig();
  if (!config.currencies.includes(settings.pricing.currency)) throw resellingNotReady('its pricing currency is not supported');
  return { agency, stripeAccountId: settings.stripeAccountId, terms: agencyTerms(settings.pricing) };
}

export function agencyTerms(pricing: StoredPricing): Terms {
  const config = resellingConfig();
  return {
    ...pricing,
    minimum: config.minimumCreditPrice[pricing.currency] ?? null,
    feePerCredit: config.applicationFee[pricing.currency] ?? null,
  };
}

export function platformTerms(): Terms {
  const { platform } = resellingConfig();
  return {
    currency: platform.currency,
    perCreditPrice: formatPrice(platform.perCreditPrice),
    packages: platform.packages,
    minimum: null,
    feePerCredit: null,
  };
}

/** The range of credit counts one purchase may be for at this price (Stripe's smallest and largest charge). */
export function creditBounds(terms: Terms) {
  const price = parsePrice(terms.perCreditPrice);
  const config = resellingConfig();
  return {
    minimumCredits: Math.max(1, creditsReaching(stripeMinimumCharge[terms.currency] ?? 1, price)),
    maximumCredits: Math.min(config.maxPurchaseCredits, creditsWithin(STRIPE_MAXIMUM_AMOUNT, price)),
  };
}

export function offersView(terms: Terms) {
  return {
    currency: terms.currency,
    perCreditPrice: terms.perCreditPrice,
    packages: terms.packages.map((p) => ({ id: p.id, name: p.name, credits: p.credits, price: p.price })),
    ...creditBounds(terms),
  };
}

/** A reselling sub-account's offers; manual mode (or the agency itself) has none: 404. */
export async function creditOffers(account: AccountItem) {
  if (account.type !== 'sub_account' || (account.creditMode ?? 'manual') !== 'reselling') throw notFound('Offers');
  const { terms } = await sellerOf(account);
  return offersView(terms);
}

/**
 * Prices one purchase now: a package as offered, or `credits` × the per-credit price rounded up.
 * The platform minimum is checked again here (it may have been raised since the pricing was
 * saved), and so are Stripe's smallest and largest charge.
 */
export function priceLine(body: PurchaseBody, terms: Terms): Line {
  let line: Omit<Line, 'applicationFeeAmount'>;
  if (body.packageId !== undefined) {
    const pkg = terms.packages.find((p) => p.id === body.packageId);
    if (!pkg) throw invalidField('packageId', 'not one of the current offers');
    if (terms.minimum !== null && !coversPerCredit(pkg.price, pkg.credits, terms.minimum))
      throw priceBelowMinimum('packageId', terms.minimum, terms.currency);
    line = {
      credits: pkg.credits,
      amount: pkg.price,
      currency: terms.currency,
      perCreditPrice: terms.perCreditPrice,
      packageId: pkg.id,
      packageName: pkg.name,
    };
  } else {
    const credits = body.credits ?? 0;
    const price = parsePrice(terms.perCreditPrice);
    if (terms.minimum !== null && price < terms.minimum) throw priceBelowMinimum('perCreditPrice', terms.minimum, terms.currency);
    const { maximumCredits } = creditBounds(terms);
    if (credits > maximumCredits) throw invalidField('credits', `must be at most ${maximumCredits}`);
    line = { credits, amount: amountFor(credits, price), currency: terms.currency, perCreditPrice: terms.perCreditPrice };
  }
  const stripeMinimum = stripeMinimumCharge[line.currency] ?? 1;
  if (line.amount < stripeMinimum) throw amountTooSmall(body.packageId ? 'packageId' : 'credits', stripeMinimum, line.currency);
  if (line.amount > STRIPE_MAXIMUM_AMOUNT) throw invalidField('credits', `the amount may be at most ${STRIPE_MAXIMUM_AMOUNT}`);
  // The fee per credit never exceeds the minimum price, so it never exceeds the amount; the cap only states it.
  const applicationFeeAmount =
    terms.feePerCredit === null ? null : Math.min(line.amount, amountFor(line.credits, terms.feePerCredit));
  return { ...line, applicationFeeAmount };
}
