/**
 * Refunds and disputes against Stripe's own events, in any order: a private sandbox sends
 * nothing, so this file delivers the events Stripe recorded, shuffled, duplicated and
 * concurrently, while Stripe's state moves on (refunds, failed refunds, disputes opened and
 * decided) and the client spends. After every run the purchase is settled exactly as Stripe's
 * objects say, the wallet equals its entries and never went below zero, and credits landed once.
 * Beside the model, the orders that matter most, one by one: a refund or dispute that arrives
 * before the payment it belongs to.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chargeUsage, ledgerEntries, type StoredEntry } from '../support/ledger';
import {
  control,
  deliverRecorded,
  type PrivateSeller,
  type PrivateStripe,
  privatePurchase,
  privateSeller,
  recordedEvents,
  startPrivateStripe,
} from '../support/private-stripe';
import { deliverInProcess, purchaseRow, walletBalance } from '../support/reselling';

let ps: PrivateStripe;
let seller: PrivateSeller;

beforeAll(async () => {
  ps = await startPrivateStripe();
  seller = await privateSeller(ps);
}, 60_000);

afterAll(async () => {
  await ps?.stop();
});

const CREDITS = 50;
const mine = (all: StoredEntry[], purchaseId: string) =>
  all.filter((e) => (e.payment as { purchaseId?: string } | undefined)?.purchaseId === purchaseId);

/** The wallet equals its entries and is never negative. */
async function walletMatchesEntries() {
  const [balance, entries] = await Promise.all([walletBalance(seller.client.subAccountId), ledgerEntries(seller.agencyId)]);
  const sum = entries.filter((e) => e.balanceKind === 'wallet').reduce((n, e) => n + e.credits, 0);
  expect(balance).toBeGreaterThanOrEqual(0);
  expect(balance).toBe(sum);
  return entries;
}

const as = (account: string) => ({ stripeAccount: account });

/** The payment's refunds and disputes as Stripe holds them, and what they add up to (independently of the platform's code). */
async function stripeSays(paymentIntent: string, amount: number) {
  const [refunds, disputes] = await Promise.all([
    ps.sdk.refunds.list({ payment_intent: paymentIntent, limit: 100 }, as(seller.stripeAccountId)),
    ps.sdk.disputes.list({ payment_intent: paymentIntent, limit: 100 }, as(seller.stripeAccountId)),
  ]);
  const refunded = Math.min(
    amount,
    refunds.data.filter((r) => r.status !== 'failed' && r.status !== 'canceled').reduce((n, r) => n + r.amount, 0),
  );
  const disputed = Math.min(
    amount - refunded,
    disputes.data.filter((d) => d.status !== 'won').reduce((n, d) => n + d.amount, 0),
  );
  const share = (part: number) => Math.floor((CREDITS * part) / amount);
  return {
    refunded,
    disputed,
    creditsRefunded: share(refunded),
    creditsDisputed: share(refunded + disputed) - share(refunded),
    status: disputed > 0 ? 'disputed' : refunded > 0 ? 'refunded' : 'paid',
    refunds: refunds.data,
    disputes: disputes.data,
  };
}

async function paymentIntentOf(sessionId: string): Promise<string> {
  const session = await ps.sdk.checkout.sessions.retrieve(sessionId, {}, as(seller.stripeAccountId));
  return session.payment_intent as string;
}

async function chargeOf(paymentIntent: string): Promise<string> {
  const intent = await ps.sdk.paymentIntents.retrieve(paymentIntent, {}, as(seller.stripeAccountId));
  return intent.latest_charge as string;
}

describe('a refund or dispute before its payment', () => {
  it('a refund delivered before the payment is parked, then taken back as soon as the payment lands', async () => {
    const p = await privatePurchase(ps, seller, CREDITS);
    const seen = new Set((await recordedEvents(ps)).map((e) => e.id));
    await control(ps, `/sandbox/checkout/sessions/${p.checkoutSessionId}/pay`);
    const pi = await paymentIntentOf(p.checkoutSessionId);
    await ps.sdk.refunds.create({ payment_intent: pi, amount: Math.floor(p.amount / 2) }, as(seller.stripeAccountId));

    expect(await deliverRecorded(ps, ['charge.refunded'], seen)).toEqual(['parked']);
    expect((await purchaseRow(p.id))?.status).toBe('pending');
    expect(mine(await walletMatchesEntries(), p.id)).toEqual([]);

    expect(await deliverRecorded(ps, ['checkout.session.completed'], seen)).toEqual(['paid']);
    const row = await purchaseRow(p.id);
    expect(row).toMatchObject({ status: 'refunded', amountRefunded: Math.floor(p.amount / 2), creditsRefunded: 25 });
    expect(mine(await walletMatchesEntries(), p.id).map((e) => [e.type, e.credits])).toEqual([
      ['purchase', 50],
      ['refund', -25],
    ]);
  });

  it('a dispute delivered before the payment is parked, then takes the credits back as soon as the payment lands', async () => {
    const p = await privatePurchase(ps, seller, CREDITS);
    const seen = new Set((await recordedEvents(ps)).map((e) => e.id));
    await control(ps, `/sandbox/checkout/sessions/${p.checkoutSessionId}/pay`);
    await control(ps, `/sandbox/checkout/sessions/${p.checkoutSessionId}/dispute`);

    expect(await deliverRecorded(ps, ['charge.dispute.created', 'charge.dispute.funds_withdrawn'], seen)).toEqual([
      'parked',
      'parked',
    ]);
    expect(await deliverRecorded(ps, ['checkout.session.completed'], seen)).toEqual(['paid']);
    expect(await purchaseRow(p.id)).toMatchObject({ status: 'disputed', amountDisputed: p.amount, creditsDisputed: 50 });
    expect(mine(await walletMatchesEntries(), p.id).map((e) => [e.type, e.credits])).toEqual([
      ['purchase', 50],
      ['dispute', -50],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// The model.

type Path = 'card' | 'async_ok' | 'async_fail' | 'expired';
type Op =
  | { kind: 'refund'; thousandths: number }
  | { kind: 'fail_refund'; which: number; canceled: boolean }
  | { kind: 'dispute'; thousandths: number }
  | { kind: 'close_dispute'; won: boolean }
  | { kind: 'spend'; credits: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('refund' as const), thousandths: fc.integer({ min: 1, max: 1000 }) }),
  fc.record({ kind: fc.constant('fail_refund' as const), which: fc.nat(3), canceled: fc.boolean() }),
  fc.record({ kind: fc.constant('dispute' as const), thousandths: fc.integer({ min: 1, max: 1000 }) }),
  fc.record({ kind: fc.constant('close_dispute' as const), won: fc.boolean() }),
  fc.record({ kind: fc.constant('spend' as const), credits: fc.integer({ min: 1, max: 30 }) }),
);

const scenario = fc.record({
  path: fc.constantFrom<Path>('card', 'async_ok', 'async_fail', 'expired'),
  ops: fc.array(op, { maxLength: 5 }),
  /** Per step: how many pending events to deliver, and the order keys that shuffle them. */
  batches: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 8, maxLength: 8 }),
  order: fc.array(fc.nat(1_000_000), { minLength: 40, maxLength: 40 }),
  /** Per delivery: 1–3 copies, delivered at once. */
  copies: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 40, maxLength: 40 }),
});

/** What Stripe's actions do at the sandbox; false when they do not apply to the payment as it is. */
async function act(o: Op, pi: string | undefined, amount: number): Promise<void> {
  if (o.kind === 'spend') {
    const charged = await chargeUsage(seller.client.subAccountId, { type: 'ai_response', quantity: o.credits });
    expect([201, 402]).toContain(charged.status);
    return;
  }
  if (!pi) return;
  const charge = await ps.sdk.charges.retrieve(await chargeOf(pi), {}, as(seller.stripeAccountId));
  const now = await stripeSays(pi, amount);
  switch (o.kind) {
    case 'refund': {
      const left = charge.amount - charge.amount_refunded;
      if (left <= 0 || charge.disputed) return;
      const refund = Math.max(1, Math.ceil((left * o.thousandths) / 1000));
      await ps.sdk.refunds.create({ payment_intent: pi, amount: refund }, as(seller.stripeAccountId));
      return;
    }
    case 'fail_refund': {
      const standing = now.refunds.filter((r) => r.status === 'succeeded' || r.status === 'pending');
      const refund = standing[o.which % Math.max(1, standing.length)];
      if (refund) await control(ps, `/sandbox/refunds/${refund.id}/fail`, { status: o.canceled ? 'canceled' : 'failed' });
      return;
    }
    case 'dispute': {
      const left = charge.amount - charge.amount_refunded;
      if (charge.disputed || left <= 0) return;
      await control(ps, `/sandbox/charges/${charge.id}/dispute`, {
        amount: Math.max(1, Math.ceil((left * o.thousandths) / 1000)),
      });
      return;
    }
    case 'close_dispute': {
      const open = now.disputes.find((d) => d.status !== 'won' && d.status !== 'lost');
      if (open) await control(ps, `/sandbox/disputes/${open.id}/close`, { outcome: o.won ? 'won' : 'lost' });
      return;
    }
  }
}

describe('model: Stripe moving on while its events arrive shuffled, duplicated and at once', () => {
  it('settles exactly as Stripe says, credits land once, the wallet equals its entries and never goes below zero', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const p = await privatePurchase(ps, seller, CREDITS);
        const sent = new Set((await recordedEvents(ps)).map((e) => e.id));
        const pending: string[] = [];
        const delivered: string[] = [];
        let n = 0;
        const collect = async () => {
          for (const e of await recordedEvents(ps, sent)) {
            sent.add(e.id);
            if (e.account === seller.stripeAccountId) pending.push(e.body);
          }
        };
        /** Delivers `count` pending events (shuffled by the order keys), each 1–3 times at once, plus one old duplicate. */
        const deliverSome = async (count: number) => {
          await collect();
          const picked = pending
            .map((body, i) => ({ body, key: s.order[(n + i) % s.order.length] ?? i }))
            .sort((a, b) => a.key - b.key)
            .slice(0, count)
            .map((x) => x.body);
          for (const body of picked) pending.splice(pending.indexOf(body), 1);
          if (delivered.length && count) picked.push(delivered[(s.order[n % s.order.length] ?? 0) % delivered.length] as string);
          for (const body of picked) {
            const copies = s.copies[n++ % s.copies.length] ?? 1;
            const answers = await Promise.all(Array.from({ length: copies }, () => deliverInProcess(body)));
            for (const a of answers) expect(a.status).toBe(200);
            delivered.push(body);
          }
          await walletMatchesEntries();
        };

        const outcome = { card: 'pay', async_ok: 'pay_async_success', async_fail: 'pay_async_failure', expired: 'expire' }[
          s.path
        ];
        await control(ps, `/sandbox/checkout/sessions/${p.checkoutSessionId}/${outcome}`);
        const paid = s.path === 'card' || s.path === 'async_ok';
        const pi = paid ? await paymentIntentOf(p.checkoutSessionId) : undefined;
        for (const [i, o] of s.ops.entries()) {
          await deliverSome(s.batches[i % s.batches.length] ?? 0);
          await act(o, pi, p.amount);
        }
        await deliverSome(Number.POSITIVE_INFINITY);

        const row = await purchaseRow(p.id);
        const entries = mine(await walletMatchesEntries(), p.id);
        if (!pi) {
          expect([row?.status, entries.length]).toEqual([s.path === 'expired' ? 'expired' : 'failed', 0]);
          return;
        }
        const want = await stripeSays(pi, p.amount);
        expect(entries.filter((e) => e.type === 'purchase').map((e) => e.credits)).toEqual([CREDITS]);
        expect({
          status: row?.status,
          amountRefunded: row?.amountRefunded ?? 0,
          creditsRefunded: row?.creditsRefunded ?? 0,
          amountDisputed: row?.amountDisputed ?? 0,
          creditsDisputed: row?.creditsDisputed ?? 0,
        }).toEqual({
          status: want.status,
          amountRefunded: want.refunded,
          creditsRefunded: want.creditsRefunded,
          amountDisputed: want.disputed,
          creditsDisputed: want.creditsDisputed,
        });
        // What each component owes was taken from the wallet, except its recorded shortfall.
        const taken = (type: string) => -entries.filter((e) => e.type === type).reduce((sum, e) => sum + e.credits, 0);
        expect(taken('refund') + (row?.refundShortfall ?? 0)).toBe(want.creditsRefunded);
        expect(taken('dispute') + (row?.disputeShortfall ?? 0)).toBe(want.creditsDisputed);
        expect(row?.refundShortfall ?? 0).toBeGreaterThanOrEqual(0);
        expect(row?.disputeShortfall ?? 0).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 15), endOnFailure: true },
    );
  }, 600_000);
});
