/**
 * Money without floats. Amounts are integers of a currency's minor unit; a per-credit price may
 * be a fraction of a minor unit (like Stripe's `unit_amount_decimal`), written as a decimal
 * string with at most 4 decimals and held as an exact integer of 1/10,000 minor units.
 */
export const PRICE_DECIMALS = 4;
const SCALE = 10n ** BigInt(PRICE_DECIMALS);

/** `"15"`, `"1.5"`, `"0.0125"`: minor units, up to 4 decimals, no sign, no exponent. */
export const PRICE_PATTERN = /^(0|[1-9]\d{0,8})(\.\d{1,4})?$/;

/** A per-credit price in 1/10,000 minor units. */
export type Price = bigint;

export function parsePrice(text: string): Price {
  const m = PRICE_PATTERN.exec(text);
  if (!m) throw new Error(`not a price: ${JSON.stringify(text)}`);
  const fraction = (m[2] ?? '').slice(1).padEnd(PRICE_DECIMALS, '0');
  return BigInt(m[1] as string) * SCALE + BigInt(fraction || '0');
}

/** The canonical text of a price: no trailing zeros (`"1.5"`, `"2"`). */
export function formatPrice(price: Price): string {
  const whole = price / SCALE;
  const fraction = (price % SCALE).toString().padStart(PRICE_DECIMALS, '0').replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : `${whole}`;
}

/** What `credits` cost at `price`: rounded up to a whole minor unit (never below the price). */
export function amountFor(credits: number, price: Price): number {
  const exact = BigInt(credits) * price;
  return Number((exact + SCALE - 1n) / SCALE);
}

/** Whether `amount` for `credits` is at least `minimum` per credit (exact: amount × 10⁴ ≥ minimum × credits). */
export function coversPerCredit(amount: number, credits: number, minimum: Price): boolean {
  return BigInt(amount) * SCALE >= minimum * BigInt(credits);
}

/** The fewest credits whose amount reaches `minimumAmount` (ceil(c × price) ≥ m ⟺ c × price > (m − 1) × 10⁴). */
export function creditsReaching(minimumAmount: number, price: Price): number {
  if (price <= 0n) return Number.MAX_SAFE_INTEGER;
  return Number((BigInt(Math.max(minimumAmount - 1, 0)) * SCALE) / price) + 1;
}

/** The most credits whose amount stays within `maximumAmount`. */
export function creditsWithin(maximumAmount: number, price: Price): number {
  if (price <= 0n) return Number.MAX_SAFE_INTEGER;
  return Number((BigInt(maximumAmount) * SCALE) / price);
}
