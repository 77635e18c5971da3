import { describe, expect, it } from 'vitest';
import {
  MAX_ATTEMPTS,
  nextAttemptAt,
  nextSqsDelaySeconds,
  RETRY_DELAYS_SECONDS,
  retryDelaySeconds,
  SQS_MAX_DELAY_SECONDS,
  sqsHops,
} from '#domain/webhooks/backoff';

describe('webhook retry schedule', () => {
  it('retries first after about 5 s, then ever later, over about a day', () => {
    const delays = Array.from({ length: MAX_ATTEMPTS }, (_, i) => retryDelaySeconds(i + 1, { jitter: 0 }));
    expect(delays.at(-1)).toBeUndefined(); // after the last attempt fails there is no next
    const waits = delays.slice(0, -1) as number[];
    expect(waits).toEqual([...RETRY_DELAYS_SECONDS]);
    expect(waits[0]).toBe(5);
    waits.slice(1).forEach((w, i) => expect(w).toBeGreaterThanOrEqual(waits[i]!));
    const total = waits.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(20 * 3600);
    expect(total).toBeLessThan(26 * 3600);
    expect(MAX_ATTEMPTS).toBe(11);
  });

  it('spreads each delay by the jitter fraction, in whole seconds of at least 1', () => {
    expect(retryDelaySeconds(7, { jitter: 0.2, random: () => 0 })).toBe(5760);
    expect(retryDelaySeconds(7, { jitter: 0.2, random: () => 0.5 })).toBe(7200);
    expect(retryDelaySeconds(7, { jitter: 0.2, random: () => 0.9999999 })).toBe(8640);
    expect(retryDelaySeconds(1, { jitter: 1, random: () => 0 })).toBe(1);
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      const base = RETRY_DELAYS_SECONDS[attempt - 1]!;
      const delay = retryDelaySeconds(attempt)!; // default jitter, Math.random
      expect(Number.isInteger(delay)).toBe(true);
      expect(delay).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
      expect(delay).toBeLessThanOrEqual(Math.ceil(base * 1.2));
    }
    expect(nextAttemptAt(1, 1_000_000, { jitter: 0 })).toBe(1_005_000);
    expect(nextAttemptAt(MAX_ATTEMPTS, 1_000_000)).toBeUndefined();
  });

  it('refuses an attempt count that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => retryDelaySeconds(bad)).toThrow(RangeError);
  });
});

describe('SQS hops', () => {
  it('re-enqueues in hops of at most 900 s, never delivering early', () => {
    expect(nextSqsDelaySeconds(1_000_000, 1_000_000)).toBe(0);
    expect(nextSqsDelaySeconds(1_000_000, 2_000_000)).toBe(0);
    expect(nextSqsDelaySeconds(1_005_200, 1_000_000)).toBe(6);
    expect(nextSqsDelaySeconds(1_000_000 + 3600_000, 1_000_000)).toBe(SQS_MAX_DELAY_SECONDS);

    // Follow the longest wait hop by hop, as the sender would.
    const start = 1_700_000_000_000;
    const notBefore = start + 28_800_000 + 123;
    let now = start;
    const hops: number[] = [];
    for (let delay = nextSqsDelaySeconds(notBefore, now); delay > 0; delay = nextSqsDelaySeconds(notBefore, now)) {
      hops.push(delay);
      now += delay * 1000;
    }
    expect(now).toBeGreaterThanOrEqual(notBefore);
    expect(now - notBefore).toBeLessThan(1000);
    expect(hops.every((h) => h >= 1 && h <= SQS_MAX_DELAY_SECONDS)).toBe(true);
    expect(hops).toHaveLength(33); // 28,800.123 s = 32 × 900 + 1
  });

  it('splits a whole delay into hops', () => {
    expect(sqsHops(0)).toEqual([]);
    expect(sqsHops(5)).toEqual([5]);
    expect(sqsHops(900)).toEqual([900]);
    expect(sqsHops(901)).toEqual([900, 1]);
    expect(sqsHops(3600)).toEqual([900, 900, 900, 900]);
    expect(sqsHops(4.2)).toEqual([5]);
    const day = RETRY_DELAYS_SECONDS.reduce((a, b) => a + b, 0);
    expect(sqsHops(day).reduce((a, b) => a + b, 0)).toBe(day);
  });
});
