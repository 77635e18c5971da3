import { formatPrice, PRICE_PATTERN, type Price, parsePrice } from './money';

/**
 * The reselling and credit-purchase settings, defined ONCE. Each names the environment
 * variable the functions read and the CDK context key a deployment sets it with
 * (`npx cdk deploy -c resellingMinimumCreditPrice=usd:2,eur:2`); `infra/config.ts` passes every
 * one of them to the functions, `npm start` and the tests set them the same way, and both
 * sides parse them with `parseResellingConfig` (a bad value fails the synth, or the cold start).
 * A setting marked `requiredAtDeploy` has its default locally only: the synth fails without it.
 *
 * Formats: per-currency decimals as `usd:1,eur:1.25` (minor units, ≤ 4 decimals); platform
 * packages as `id:credits:amount,…` (amount in minor units of the platform currency).
 */
export const resellingSettings = {
  currencies: { env: 'RESELLING_CURRENCIES', context: 'resellingCurrencies', default: 'usd,eur,gbp' },
  minimumCreditPrice: {
    env: 'RESELLING_MINIMUM_CREDIT_PRICE',
    context: 'resellingMinimumCreditPrice',
    default: 'usd:1,eur:1,gbp:1',
  },
  applicationFee: { env: 'RESELLING_APPLICATION_FEE', context: 'resellingApplicationFee', default: 'usd:0.2,eur:0.2,gbp:0.2' },
  maxPurchaseCredits: { env: 'RESELLING_MAX_PURCHASE_CREDITS', context: 'resellingMaxPurchaseCredits', default: '1000000' },
  platformCreditPrice: { env: 'PLATFORM_CREDIT_PRICE', context: 'platformCreditPrice', default: 'usd:0.8' },
  platformPackages: {
    env: 'PLATFORM_CREDIT_PACKAGES',
    context: 'platformCreditPackages',
    default: 'pool_1000:1000:900,pool_10000:10000:8000',
  },
  checkoutExpiryMinutes: { env: 'CHECKOUT_EXPIRY_MINUTES', context: 'checkoutExpiryMinutes', default: '60' },
  /**
   * Events are believed only in this Stripe mode: test keys send livemode false. Deployed, it is
   * chosen explicitly: a silent default would leave a live deployment refusing every real event
   * (or a test one believing test events as money).
   */
  stripeLivemode: { env: 'STRIPE_LIVEMODE', context: 'stripeLivemode', default: 'false', requiredAtDeploy: true },
  /** The console's base URL: Checkout's success/cancel pages and Connect's return/refresh pages live under it. */
  appUrl: { env: 'APP_URL', context: 'appUrl', default: 'https://app.example.com' },
} as const;

export type ResellingSetting = keyof typeof resellingSettings;
export type RawResellingConfig = Record<ResellingSetting, string>;

/** Stripe's minimum charge per currency (minor units; docs.stripe.com/currencies#minimum-and-maximum-charge-amounts). */
export const stripeMinimumCharge: Record<string, number> = { usd: 50, eur: 50, gbp: 30, cad: 50, aud: 50, chf: 50 };
/** Stripe's maximum amount of one charge (minor units, 8 digits). */
export const STRIPE_MAXIMUM_AMOUNT = 99_999_999;

export interface PlatformPackage {
  id: string;
  name: string;
  credits: number;
  price: number;
}

export interface ResellingConfig {
  currencies: string[];
  minimumCreditPrice: Record<string, Price>;
  applicationFee: Record<string, Price>;
  maxPurchaseCredits: number;
  platform: { currency: string; perCreditPrice: Price; packages: PlatformPackage[] };
  checkoutExpiryMinutes: number;
  livemode: boolean;
  appUrl: string;
}

const CURRENCY = /^[a-z]{3}$/;

function perCurrency(name: string, text: string): Record<string, Price> {
  const out: Record<string, Price> = {};
  for (const part of text.split(',').map((p) => p.trim())) {
    const [currency = '', price = ''] = part.split(':');
    if (!CURRENCY.test(currency) || !PRICE_PATTERN.test(price)) throw new Error(`${name}: "${part}" is not currency:price`);
    out[currency] = parsePrice(price);
  }
  return out;
}

function integer(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new Error(`${name}: ${text} is not a whole number in ${min}..${max}`);
  return n;
}

/** Parses and cross-checks the settings: every currency has a minimum, a fee no larger than it, and a Stripe minimum. */
export function parseResellingConfig(raw: RawResellingConfig): ResellingConfig {
  const s = resellingSettings;
  const currencies = raw.currencies.split(',').map((c) => c.trim());
  const minimumCreditPrice = perCurrency(s.minimumCreditPrice.env, raw.minimumCreditPrice);
  const applicationFee = perCurrency(s.applicationFee.env, raw.applicationFee);
  for (const c of currencies) {
    if (!CURRENCY.test(c) || stripeMinimumCharge[c] === undefined) throw new Error(`${s.currencies.env}: ${c} is not supported`);
    const minimum = minimumCreditPrice[c];
    const fee = applicationFee[c];
    if (minimum === undefined || minimum <= 0n) throw new Error(`${s.minimumCreditPrice.env}: no positive minimum for ${c}`);
    // The fee is taken out of what the client pays; it may never exceed the cheapest allowed price.
    if (fee === undefined || fee > minimum)
      throw new Error(`${s.applicationFee.env}: ${c} needs a fee of at most the minimum (${formatPrice(minimum)})`);
  }
  const platformPrice = perCurrency(s.platformCreditPrice.env, raw.platformCreditPrice);
  const [platformCurrency, perCreditPrice] = Object.entries(platformPrice)[0] ?? [];
  if (!platformCurrency || perCreditPrice === undefined || perCreditPrice <= 0n || Object.keys(platformPrice).length !== 1)
    throw new Error(`${s.platformCreditPrice.env}: one currency:price`);
  if (stripeMinimumCharge[platformCurrency] === undefined)
    throw new Error(`${s.platformCreditPrice.env}: ${platformCurrency} is not supported`);
  const maxPurchaseCredits = integer(s.maxPurchaseCredits.env, raw.maxPurchaseCredits, 1, 1_000_000_000);
  const packages = raw.platformPackages
    .split(',')
    .filter((p) => p.trim())
    .map((part) => {
      const [id = '', credits = '', price = ''] = part.trim().split(':');
      if (!/^[a-z0-9_]{1,40}$/.test(id)) throw new Error(`${s.platformPackages.env}: "${part}" is not id:credits:amount`);
      const pkg = {
        id,
        name: `${Number(credits).toLocaleString('en-US')} credits`,
        credits: integer(s.platformPackages.env, credits, 1, maxPurchaseCredits),
        price: integer(s.platformPackages.env, price, stripeMinimumCharge[platformCurrency] ?? 1, STRIPE_MAXIMUM_AMOUNT),
      };
      return pkg;
    });
  const appUrl = raw.appUrl.replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s]+$/.test(appUrl)) throw new Error(`${s.appUrl.env}: not an http(s) URL`);
  if (!['true', 'false'].includes(raw.stripeLivemode)) throw new Error(`${s.stripeLivemode.env}: true or false`);
  return {
    currencies,
    minimumCreditPrice,
    applicationFee,
    maxPurchaseCredits,
    platform: { currency: platformCurrency, perCreditPrice, packages },
    // Stripe allows 30 minutes to 24 hours.
    checkoutExpiryMinutes: integer(s.checkoutExpiryMinutes.env, raw.checkoutExpiryMinutes, 30, 24 * 60),
    livemode: raw.stripeLivemode === 'true',
    appUrl,
  };
}

/** The settings as an environment would hold them, defaults filled in. */
export function rawResellingConfig(lookup: (setting: (typeof resellingSettings)[ResellingSetting]) => string | undefined) {
  return Object.fromEntries(
    (Object.entries(resellingSettings) as [ResellingSetting, (typeof resellingSettings)[ResellingSetting]][]).map(
      ([key, setting]) => [key, lookup(setting) || setting.default],
    ),
  ) as RawResellingConfig;
}

let cached: { key: string; config: ResellingConfig } | undefined;
/** The settings of this process's environment (parsed again only when the environment changed: tests change it). */
export function resellingConfig(): ResellingConfig {
  const raw = rawResellingConfig((s) => process.env[s.env]);
  const key = JSON.stringify(raw);
  if (cached?.key !== key) cached = { key, config: parseResellingConfig(raw) };
  return cached.config;
}
