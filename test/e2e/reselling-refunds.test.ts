/**
 * Refunds made at "Stripe" (the sandbox's refund button, which sends charge.refunded as Stripe
 * does, cumulative amount_refunded): a full refund takes all the credits back, partial refunds
 * their share, and when the client has already spent part of them the wallet stops at zero and
 * the shortfall is recorded on the purchase. The wallet always equals its entries.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { api, type SubAccountFixture, waitFor } from '../support/api';
import { chargeUsage, expectStatus, ledgerEntries } from '../support/ledger';
import {
  buy,
  control,
  purchaseBecomes,
  purchaseRow,
  type ReadyAgency,
  readyAgency,
  resellingClient,
  walletBalance,
} from '../support/reselling';

let seller: ReadyAgency;

beforeAll(async () => {
  seller = await readyAgency();
}, 60_000);

/** A fresh reselling client that bought `credits` and paid on the sandbox. */
async function paidPurchase(
  credits: number,
): Promise<{ client: SubAccountFixture; id: string; session: string; amount: number }> {
  const client = await resellingClient(seller.agency.token);
  const p = expectStatus(await buy(client.token, client.subAccountId, { credits }), 201).body.purchase;
  expect((await control(`/sandbox/checkout/sessions/${p.checkoutSessionId}/pay`)).status).toBe(200);
  await purchaseBecomes(p.id, 'paid');
  return { client, id: p.id, session: p.checkoutSessionId, amount: p.amount };
}

async function walletEntries(subAccountId: string) {
  return (await ledgerEntries(seller.agency.agencyId)).filter((e) => e.accountId === subAccountId && e.balanceKind === 'wallet');
}

function refundedTo(id: string, amountRefunded: number) {
  return waitFor(async () => {
    const row = await purchaseRow(id);
    return row?.amountRefunded === amountRefunded ? row : undefined;
  });
}

describe('refunds', () => {
  it('a full refund takes every credit back: status refunded, wallet 0, spend back to 0', async () => {
    const { client, id, session, amount } = await paidPurchase(40);
    expect(await walletBalance(client.subAccountId)).toBe(40);
    expect((await control(`/sandbox/checkout/sessions/${session}/refund`)).status).toBe(200);
    const row = await refundedTo(id, amount);
    expect(row).toMatchObject({ status: 'refunded', creditsRefunded: 40, refundShortfall: 0 });
    expect(await walletBalance(client.subAccountId)).toBe(0);
    const entries = await walletEntries(client.subAccountId);
    expect(entries.map((e) => [e.type, e.credits])).toEqual([
      ['purchase', 40],
      ['refund', -40],
    ]);
    expect(entries[1]?.payment).toMatchObject({
      purchaseId: id,
      amount,
      currency: 'usd',
      chargeId: expect.stringMatching(/^ch_/),
    });

    const list = await api('GET', `/v1/accounts/${client.subAccountId}/credit-purchases`, { token: client.token });
    expect(list.body.items[0]).toMatchObject({ id, status: 'refunded', amountRefunded: amount, creditsRefunded: 40 });
    const dash = await api('GET', '/v1/reselling/dashboard', { token: seller.agency.token });
    const item = dash.body.items.find((i: { subAccountId: string }) => i.subAccountId === client.subAccountId);
    expect(item).toMatchObject({ purchasedCredits: 40, refundedCredits: 40, remaining: 0, totalSpend: 0 });
  });

  it('partial refunds take back their share, cumulatively', async () => {
    const { client, id, session } = await paidPurchase(40); // 600¢
    expect((await control(`/sandbox/checkout/sessions/${session}/refund`, { amount: 150 })).status).toBe(200);
    expect(await refundedTo(id, 150)).toMatchObject({ status: 'refunded', creditsRefunded: 10 });
    expect(await walletBalance(client.subAccountId)).toBe(30);
    expect((await control(`/sandbox/checkout/sessions/${session}/refund`, { amount: 300 })).status).toBe(200);
    // Stripe's charge.refunded carries the cumulative 450¢: 30 credits in all, 20 more now.
    expect(await refundedTo(id, 450)).toMatchObject({ creditsRefunded: 30, refundShortfall: 0 });
    expect(await walletBalance(client.subAccountId)).toBe(10);
    expect((await walletEntries(client.subAccountId)).map((e) => e.credits)).toEqual([40, -10, -20]);
  });

  it('after part of the credits were spent: the wallet stops at zero and the shortfall is recorded', async () => {
    const { client, id, session, amount } = await paidPurchase(20);
    expectStatus(await chargeUsage(client.subAccountId, { type: 'campaign_message', quantity: 15 }), 201);
    expect(await walletBalance(client.subAccountId)).toBe(5);
    expect((await control(`/sandbox/checkout/sessions/${session}/refund`)).status).toBe(200);
    expect(await refundedTo(id, amount)).toMatchObject({ status: 'refunded', creditsRefunded: 20, refundShortfall: 15 });
    expect(await walletBalance(client.subAccountId)).toBe(0);
    const entries = await walletEntries(client.subAccountId);
    expect(entries.map((e) => [e.type, e.credits, e.balanceAfter])).toEqual([
      ['purchase', 20, 20],
      ['campaign_message', -15, 5],
      ['refund', -5, 0],
    ]);
    // Further use is refused: nothing left, and nothing below zero.
    expect((await chargeUsage(client.subAccountId, { type: 'ai_response', quantity: 1 })).status).toBe(402);
  });
});
