import { describe, expect, it } from 'vitest';
import type { BalanceState } from '#domain/ledger/balance-state';
import { aheadCount, FILL_AHEAD_AT_MOST } from '#domain/ledger/debit-ahead';
import { MAX_SLOTS } from '#domain/ledger/lanes';

const head = (over: Partial<BalanceState> = {}): BalanceState => ({
  balance: 1_000_000,
  version: 1,
  lanesOpen: 0,
  laneSlots: 0,
  fence: 0,
  noLanesUntil: 0,
  aheadSlots: [],
  aheadSeq: 0,
  ...over,
});

describe('lanes filled ahead: how many a claim fills (debit-ahead.ts)', () => {
  it('twice as many as its scope has in use, one more counted, at most the most', () => {
    expect(aheadCount(head(), 0, 10)).toBe(2);
    expect(aheadCount(head({ lanesOpen: 40 }), 3, 10)).toBe(8);
    expect(aheadCount(head({ lanesOpen: 40 }), 11, 10)).toBe(24);
    expect(aheadCount(head({ lanesOpen: 200 }), 150, 10)).toBe(FILL_AHEAD_AT_MOST);
  });

  it("leaves three quarters of the balance's free slots to its other scopes", () => {
    // 512 slots, 400 open: 111 free beside the claim's own, a quarter of them is 27.
    expect(aheadCount(head({ lanesOpen: 400 }), 150, 10)).toBe(27);
    expect(aheadCount(head({ lanesOpen: MAX_SLOTS - 1 }), 150, 10)).toBe(0);
  });

  it('never sets aside more than half of what the balance, or the month, holds', () => {
    // 1,000 credits, chunks of 100: the claim's own lane and at most 4 more (500 credits).
    expect(aheadCount(head({ balance: 1000, lanesOpen: 32 }), 30, 100)).toBe(4);
    expect(aheadCount(head({ balance: 150 }), 30, 100)).toBe(0);
    expect(aheadCount(head(), 30, 10, { allowance: 10, remaining: 60 })).toBe(2);
  });
});
