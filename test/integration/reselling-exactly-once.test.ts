import { beforeAll, describe, expect, it } from 'vitest';
import type { SubAccountFixture } from '../support/api';
import { ledgerEntries, type StoredEntry } from '../support/ledger';
import {
  control,
  deliver,
  deliverInProcess,
  newPurchase,
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
