/**
 * Exactly once, however Stripe delivers: the same event many times at once (through the
 * gateway and through a second "container" in this process), the async payment events in
 * either order, expiry after payment and the reverse, and a fast-check model of random
 * interleavings, duplicates and spending between deliveries. Credits land at most once per
 * purchase, refunds take back the refunded share once and never below zero, and the wallet
 * always equals the sum of its entries.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SubAccountFixture } from '../support/api';
import { chargeUsage, ledgerEntries, type StoredEntry } from '../support/ledger';
import {
  chargeRefundedEvent,
  control,
  deliver,
  deliverInProcess,
  newPurchase,
  type PurchaseRef,
  purchaseBecomes,
  purchaseRow,
  type ReadyAgency,
  readyAgency,
  resellingClient,
  sandboxUrl,
  sessionEvent,
  walletBalance,
} from '../support/reselling';

let seller: ReadyAgency;
let client: SubAccountFixture;

beforeAll(async () => {
  seller = await readyAgency();
  client = await resellingClient(seller.agency.token);
}, 60_000);

const purchase = (credits: number) => newPurchase(seller, client, credits);

const entriesOf = (all: StoredEntry[], purchaseId: string) =>
  all.filter((e) => (e.payment as { purchaseId?: string } | undefined)?.purchaseId === purchaseId);

/** The wallet equals its entries, and is never negative. */
async function walletMatchesEntries() {
  const [balance, entries] = await Promise.all([walletBalance(client.subAccountId), ledgerEntries(seller.agency.agencyId)]);
  const sum = entries
    .filter((e) => e.balanceKind === 'wallet' && e.accountId === client.subAccountId)
    .reduce((n, e) => n + e.credits, 0);
  expect(balance).toBeGreaterThanOrEqual(0);
  expect(balance).toBe(sum);
  return entries;
}

describe('the same news, many times', () => {
  it('one event delivered 5 times at once, across two containers, credits once', async () => {
    const p = await purchase(10);
    const body = sessionEvent('checkout.session.completed', p);
    const outcomes = await Promise.all([
      deliver(body),
      deliverInProcess(body),
      deliver(body),
      deliverInProcess(body),
      deliver(body),
    ]);
    const seen = outcomes.map((o) => [o.status, o.body.outcome]);
    expect(seen.filter(([, o]) => o === 'paid')).toEqual([[200, 'paid']]);
    for (const [status, outcome] of seen)
      expect([status, ['paid', 'already_paid', 'duplicate'].includes(outcome)]).toEqual([200, true]);
    const entries = await walletMatchesEntries();
    expect(entriesOf(entries, p.id).map((e) => e.credits)).toEqual([10]);
  });

  it("the sandbox's own event, delivered by it and then 5 times more at once, credits once", async () => {
    const p = await purchase(10);
    expect((await control(`/sandbox/checkout/sessions/${p.checkoutSessionId}/pay`)).status).toBe(200);
    await purchaseBecomes(p.id, 'paid');
    const res = await fetch(`${sandboxUrl()}/sandbox/events?type=checkout.session.completed&account=${seller.stripeAccountId}`);
    const sent = ((await res.json()) as { data: Array<{ body: string }> }).data.find((d) => d.body.includes(p.id));
    expect(sent).toBeDefined();
    const again = await Promise.all(
      Array.from({ length: 5 }, (_, i) => (i % 2 ? deliver(sent!.body) : deliverInProcess(sent!.body))),
    );
    expect(again.map((r) => r.body.outcome).sort()).toEqual(Array(5).fill('duplicate'));
    expect(entriesOf(await walletMatchesEntries(), p.id)).toHaveLength(1);
  });

  it('completed (unpaid) then async_payment_succeeded, and the reverse order: paid once either way', async () => {
    for (const order of ['completed first', 'succeeded first'] as const) {
      const p = await purchase(5);
      const completed = sessionEvent('checkout.session.completed', p, { paymentStatus: 'unpaid' });
      const succeeded = sessionEvent('checkout.session.async_payment_succeeded', p);
      const [first, second] = order === 'completed first' ? [completed, succeeded] : [succeeded, completed];
      const a = (await deliver(first)).body.outcome;
      const b = (await deliver(second)).body.outcome;
      expect([order, a, b]).toEqual(
        order === 'completed first' ? [order, 'awaiting_payment', 'paid'] : [order, 'paid', 'awaiting_payment'],
      );
      expect((await purchaseRow(p.id))?.status).toBe('paid');
      expect(entriesOf(await walletMatchesEntries(), p.id).map((e) => e.credits)).toEqual([5]);
    }
  });

  it("expired after paid changes nothing; paid after expired still credits (Stripe's word on money wins)", async () => {
    const p = await purchase(5);
    expect((await deliver(sessionEvent('checkout.session.completed', p))).body.outcome).toBe('paid');
    expect((await deliver(sessionEvent('checkout.session.expired', p))).body.outcome).toBe('ignored');
    expect((await purchaseRow(p.id))?.status).toBe('paid');

    const q = await purchase(5);
    expect((await deliver(sessionEvent('checkout.session.expired', q))).body.outcome).toBe('expired');
    expect((await deliver(sessionEvent('checkout.session.completed', q))).body.outcome).toBe('paid');
    const entries = await walletMatchesEntries();
    expect([entriesOf(entries, p.id).length, entriesOf(entries, q.id).length]).toEqual([1, 1]);
  });

  it('async_payment_failed: failed and nothing credited; a later expiry changes nothing', async () => {
    const p = await purchase(5);
    expect((await deliver(sessionEvent('checkout.session.completed', p, { paymentStatus: 'unpaid' }))).body.outcome).toBe(
      'awaiting_payment',
    );
    expect((await deliver(sessionEvent('checkout.session.async_payment_failed', p))).body.outcome).toBe('failed');
    expect((await deliver(sessionEvent('checkout.session.expired', p))).body.outcome).toBe('ignored');
    expect((await purchaseRow(p.id))?.status).toBe('failed');
    expect(entriesOf(await walletMatchesEntries(), p.id)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The model.

type Path = 'card' | 'async_ok' | 'async_fail' | 'expired' | 'card_then_expired';
const CREDITS = 50;

/** What Stripe would send for one purchase along a path (plus refunds, cumulative, for paid paths). */
function eventsFor(path: Path, p: PurchaseRef, refunds: number[]): string[] {
  const completedPaid = sessionEvent('checkout.session.completed', p);
  const completedUnpaid = sessionEvent('checkout.session.completed', p, { paymentStatus: 'unpaid' });
  const refundEvents = refunds.map((amount) => chargeRefundedEvent(p, amount));
  switch (path) {
    case 'card':
      return [completedPaid, ...refundEvents];
    case 'async_ok':
      return [completedUnpaid, sessionEvent('checkout.session.async_payment_succeeded', p), ...refundEvents];
    case 'async_fail':
      return [completedUnpaid, sessionEvent('checkout.session.async_payment_failed', p)];
    case 'expired':
      return [sessionEvent('checkout.session.expired', p)];
    case 'card_then_expired':
      return [completedPaid, sessionEvent('checkout.session.expired', p), ...refundEvents];
  }
}

const paidPath = (path: Path) => path !== 'async_fail' && path !== 'expired';

const scenario = fc.record({
  path: fc.constantFrom<Path>('card', 'async_ok', 'async_fail', 'expired', 'card_then_expired'),
  /** Cut points of cumulative refunds, as thousandths of the amount. */
  refundCuts: fc.uniqueArray(fc.integer({ min: 1, max: 1000 }), { maxLength: 2 }),
  copies: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 6, maxLength: 6 }),
  order: fc.array(fc.nat(1_000_000), { minLength: 24, maxLength: 24 }),
  batches: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 24, maxLength: 24 }),
  /** Credits the client spends before each batch (0: none). */
  spends: fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 24, maxLength: 24 }),
});

describe('model: random interleavings and duplicates of a purchase’s events', () => {
  it('credits land at most once, refunds take back their share once and never below zero, the wallet equals its entries', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const p = await purchase(CREDITS);
        const refunds = [...s.refundCuts].sort((a, b) => a - b).map((cut) => Math.ceil((p.amount * cut) / 1000));
        const events = eventsFor(s.path, p, paidPath(s.path) ? [...new Set(refunds)] : []);
        // Each event 1–3 times, shuffled, delivered in concurrent batches, alternating containers.
        const deliveries = events
          .flatMap((body, i) => Array.from({ length: s.copies[i % s.copies.length] ?? 1 }, () => body))
          .map((body, i) => ({ body, key: s.order[i % s.order.length] ?? i, i }))
          .sort((a, b) => a.key - b.key || a.i - b.i);
        let at = 0;
        for (let b = 0; at < deliveries.length; b++) {
          const spend = s.spends[b % s.spends.length] ?? 0;
          if (spend) {
            const charged = await chargeUsage(client.subAccountId, { type: 'ai_response', quantity: spend });
            expect([201, 402]).toContain(charged.status);
          }
          const batch = deliveries.slice(at, at + (s.batches[b % s.batches.length] ?? 1));
          at += batch.length;
          const answers = await Promise.all(batch.map((d, j) => ((b + j) % 2 ? deliver(d.body) : deliverInProcess(d.body))));
          for (const a of answers) expect(a.status).toBe(200);
          await walletMatchesEntries();
        }

        const row = await purchaseRow(p.id);
        const mine = entriesOf(await walletMatchesEntries(), p.id);
        const purchases = mine.filter((e) => e.type === 'purchase');
        const refundSteps = mine.filter((e) => e.type === 'refund');
        if (!paidPath(s.path)) {
          expect([row?.status, mine.length]).toEqual([s.path === 'expired' ? 'expired' : 'failed', 0]);
          return;
        }
        expect(purchases.map((e) => e.credits)).toEqual([CREDITS]);
        const refunded = Math.max(0, ...refunds);
        expect(row?.status).toBe(refunds.length ? 'refunded' : 'paid');
        expect(row?.amountRefunded ?? 0).toBe(refunded);
        // The refunded share of the credits, rounded down (all of them for a full refund)…
        const share = Math.floor((CREDITS * refunded) / p.amount);
        expect(row?.creditsRefunded ?? 0).toBe(share);
        // …left the wallet as far as it held them; the rest is the recorded shortfall.
        const taken = -refundSteps.reduce((n, e) => n + e.credits, 0);
        expect(taken + (row?.refundShortfall ?? 0)).toBe(share);
        // One step per cumulative amount that arrived while larger than the last one applied (a
        // smaller one arriving late is already included): the steps' money adds up to the total.
        expect(refundSteps.length).toBeLessThanOrEqual(new Set(refunds).size);
        expect(refundSteps.reduce((n, e) => n + ((e.payment as { amount?: number }).amount ?? 0), 0)).toBe(refunded);
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 20), endOnFailure: true },
    );
  }, 600_000);
});
