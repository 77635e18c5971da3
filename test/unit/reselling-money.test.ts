/**
 * Money without floats: decimal per-credit prices (≤ 4 decimals of a minor unit) held as exact
 * integers, amounts rounded up, and the credit bounds of Stripe's smallest and largest charge,
 * checked against plain BigInt arithmetic for arbitrary prices and counts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseResellingConfig, rawResellingConfig } from '#domain/reselling/config';
import {
  amountFor,
  coversPerCredit,
  creditsReaching,
  creditsWithin,
  formatPrice,
  PRICE_PATTERN,
  parsePrice,
} from '#domain/reselling/money';

const price = fc.bigInt({ min: 1n, max: 99_999_999_9999n });
const credits = fc.integer({ min: 1, max: 1_000_000 });

describe('prices', () => {
  it('parse and print exactly, canonically', () => {
    expect(parsePrice('1.5')).toBe(15000n);
    expect(parsePrice('0.0001')).toBe(1n);
    expect(formatPrice(parsePrice('15.2500'))).toBe('15.25');
    expect(formatPrice(parsePrice('3'))).toBe('3');
    for (const bad of ['', '1.', '.5', '-1', '1e3', '01', '1.00001', '0x10', ' 1'])
      expect(PRICE_PATTERN.test(bad), bad).toBe(false);
    fc.assert(fc.property(price, (p) => parsePrice(formatPrice(p)) === p));
  });

  it('charge ceil(credits × price): never less than the price, less than one minor unit more', () => {
    expect(amountFor(7, parsePrice('15'))).toBe(105);
    expect(amountFor(3, parsePrice('0.3333'))).toBe(1); // 0.9999 → 1
    expect(amountFor(1, parsePrice('0.0001'))).toBe(1);
    fc.assert(
      fc.property(credits, price, (c, p) => {
        const amount = BigInt(amountFor(c, p)) * 10_000n;
        const exact = BigInt(c) * p;
        return amount >= exact && amount - exact < 10_000n;
      }),
    );
  });

  it('bound the credits of one purchase by the smallest and largest charge, tightly', () => {
    fc.assert(
      fc.property(price, fc.integer({ min: 1, max: 5000 }), (p, minimum) => {
        const least = creditsReaching(minimum, p);
        return amountFor(least, p) >= minimum && (least === 1 || amountFor(least - 1, p) < minimum);
      }),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 1_000_0000n }), (p) => {
        const most = creditsWithin(99_999_999, p);
        return amountFor(most, p) <= 99_999_999 && amountFor(most + 1, p) > 99_999_999;
      }),
    );
  });

  it('compare a package with the minimum per credit exactly', () => {
    expect(coversPerCredit(1500, 100, parsePrice('15'))).toBe(true);
    expect(coversPerCredit(1499, 100, parsePrice('15'))).toBe(false);
    expect(coversPerCredit(999, 1000, parsePrice('1'))).toBe(false);
  });
});

describe('the reselling configuration', () => {
  const defaults = rawResellingConfig(() => undefined);
  it('parses its defaults', () => {
    const c = parseResellingConfig(defaults);
    expect(c.currencies).toEqual(['usd', 'eur', 'gbp']);
    expect(formatPrice(c.minimumCreditPrice.usd ?? 0n)).toBe('1');
    expect(c.platform.packages.map((p) => p.id)).toEqual(['pool_1000', 'pool_10000']);
  });

  it('refuses what would make no sense: a fee above the minimum, an unknown currency, a price that is not a price', () => {
    for (const [key, value] of [
      ['applicationFee', 'usd:2,eur:0.2,gbp:0.2'],
      ['currencies', 'usd,xyz'],
      ['minimumCreditPrice', 'usd:one'],
      ['checkoutExpiryMinutes', '10'],
      ['stripeLivemode', 'yes'],
      ['platformPackages', 'big:10:1'],
    ] as const) {
      expect(() => parseResellingConfig({ ...defaults, [key]: value }), key).toThrow();
    }
  });
});
