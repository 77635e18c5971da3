/**
 * Amounts as Stripe computes them. A line with `unit_amount_decimal` (a decimal string of
 * minor units, up to 12 decimal places) costs unit_amount_decimal × quantity rounded to
 * the nearest minor unit, half away from zero; exact decimal arithmetic (BigInt), never
 * binary floating point.
 */
export function lineAmount(unit: { amount: number } | { decimal: string }, quantity: number): number {
  if ('amount' in unit) return unit.amount * quantity;
  const [whole = '0', frac = ''] = unit.decimal.split('.');
  const scale = 10n ** BigInt(frac.length);
  const scaled = BigInt(whole + frac) * BigInt(quantity);
  const rounded = (scaled * 2n + scale) / (2n * scale);
  return Number(rounded);
}

export const DECIMAL_RE = /^\d{1,12}(\.\d{1,12})?$/;

/** Stripe's minimum charge per currency (minor units), for the currencies the platform uses and their neighbours. */
const MINIMUM_CHARGE: Record<string, number> = {
  usd: 50,
  eur: 50,
  gbp: 30,
  cad: 50,
  aud: 50,
  nzd: 50,
  chf: 50,
  sgd: 50,
  hkd: 400,
  jpy: 50,
  dkk: 250,
  nok: 300,
  sek: 300,
  pln: 200,
  czk: 1500,
  mxn: 1000,
  brl: 50,
  inr: 50,
};

export const MAXIMUM_AMOUNT = 99_999_999;

export function minimumCharge(currency: string): number | undefined {
  return MINIMUM_CHARGE[currency];
}

function fractionDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** "$12.34" for (1234, 'usd'); for pages and Stripe's error messages. */
export function formatAmount(amount: number, currency: string): string {
  const digits = fractionDigits(currency);
  const major = amount / 10 ** digits;
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() }).format(major);
  } catch {
    return `${major.toFixed(digits)} ${currency.toUpperCase()}`;
  }
}
