/**
 * The whole reselling flow over HTTP, through the local Stripe sandbox (the platform calls it over
 * REST; the test looks at what it made with the real SDK):
 * an Agency-plan agency connects Stripe, onboards on the sandbox's page, prices credits; its
 * client (switched to reselling) opens its offers, buys a package and then a number of credits,
 * pays on the sandbox's Checkout page; the credits land in the wallet exactly once, the money
 * goes to the agency's connected account with the platform's fee; the agency's dashboard shows
 * purchases, spend, consumption, remaining and the daily series.
 */
import type Stripe from 'stripe';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SubAccountFixture } from '../support/api';
import { api, waitFor } from '../support/api';
import { chargeUsage, expectStatus, ledgerEntries } from '../support/ledger';
import { pipelineIdle } from '../support/pipeline';
import {
  buy,
  control,
  type ReadyAgency,
  readyAgency,
  resellingClient,
  STARTER_PACK,
  sandboxUrl,
  sdk,
  walletOf,
} from '../support/reselling';

let seller: ReadyAgency;
let client: SubAccountFixture;
const today = () => new Date().toISOString().slice(0, 10);

beforeAll(async () => {
  seller = await readyAgency();
  client = await resellingClient(seller.agency.token);
}, 60_000);

describe('reselling through the Stripe sandbox', () => {
  it('shows the settings the agency made: connected, charges enabled, priced, the platform minimum', async () => {
    const res = expectStatus(await api('GET', '/v1/reselling/settings', { token: seller.agency.token }), 200);
    expect(res.body.stripe).toEqual({ accountId: seller.stripeAccountId, chargesEnabled: true, detailsSubmitted: true });
    expect(res.body.pricing).toMatchObject({ currency: 'usd', perCreditPrice: '15', packages: [{ ...STARTER_PACK }] });
    expect(res.body.pricing.packages[0].id).toMatch(/^pkg_/);
    expect(res.body.platform.minimumCreditPrice).toMatchObject({ usd: '1' });
    // The connected account is a real one at "Stripe", onboarded.
    const account = await sdk().accounts.retrieve(seller.stripeAccountId);
    expect(account).toMatchObject({
      charges_enabled: true,
      details_submitted: true,
      metadata: { agencyId: seller.agency.agencyId },
    });
  });

  it('a package: offers → purchase → Checkout on the agency account with the fee → paid → wallet credited once', async () => {
    const offers = expectStatus(
      await api('GET', `/v1/accounts/${client.subAccountId}/credit-offers`, { token: client.token }),
      200,
    );
    expect(offers.body).toEqual({
      currency: 'usd',
      perCreditPrice: '15',
      packages: [{ id: seller.pricing.packages[0]!.id, ...STARTER_PACK }],
      minimumCredits: 4, // 4 × 15¢ = 60¢ is the least that reaches Stripe's 50¢ minimum charge
      maximumCredits: 1_000_000,
    });

    const created = expectStatus(await buy(client.token, client.subAccountId, { packageId: offers.body.packages[0].id }), 201);
    const { purchase, checkoutUrl } = created.body;
    expect(purchase).toMatchObject({ status: 'pending', credits: 100, amount: 1500, currency: 'usd', paidAt: null });
    expect(checkoutUrl).toBe(`${sandboxUrl()}/sandbox/pages/checkout/${purchase.checkoutSessionId}`);

    // A direct charge: the session lives on the agency's connected account, not the platform's.
    const session = await sdk().checkout.sessions.retrieve(
      purchase.checkoutSessionId,
      {},
      { stripeAccount: seller.stripeAccountId },
    );
    expect(session).toMatchObject({
      amount_total: 1500,
      currency: 'usd',
      client_reference_id: purchase.id,
      metadata: { purchaseId: purchase.id },
      status: 'open',
      mode: 'payment',
    });
    expect(session.success_url).toContain(purchase.id);
    expect(session.expires_at).toBeGreaterThan(Date.now() / 1000 + 30 * 60);
    await expect(sdk().checkout.sessions.retrieve(purchase.checkoutSessionId)).rejects.toMatchObject({ statusCode: 404 });
    expect(await (await fetch(checkoutUrl)).text()).toContain('$15.00');

    // The client pays on the sandbox's Checkout page (its "Pay" button).
    const page = await fetch(`${checkoutUrl}/pay`, { method: 'POST', redirect: 'manual' });
    expect(page.status).toBe(303);
    const wallet = await waitFor(async () => {
      const w = await walletOf(client.token, client.subAccountId);
      return w.body?.balance === 100 ? w.body : undefined;
    });
    expect(wallet).toMatchObject({ balance: 100, purchased: 100, consumed: 0, refunded: 0 });

    // The platform's application fee: 100 credits × 0.2¢.
    const paid = await sdk().checkout.sessions.retrieve(
      purchase.checkoutSessionId,
      { expand: ['payment_intent'] },
      { stripeAccount: seller.stripeAccountId },
    );
    expect((paid.payment_intent as Stripe.PaymentIntent).application_fee_amount).toBe(20);

    const list = expectStatus(
      await api('GET', `/v1/accounts/${client.subAccountId}/credit-purchases`, { token: client.token }),
      200,
    );
    expect(list.body.items).toEqual([expect.objectContaining({ id: purchase.id, status: 'paid', credits: 100, amount: 1500 })]);
    expect(list.body.items[0].paidAt).not.toBeNull();

    const entries = (await ledgerEntries(seller.agency.agencyId)).filter((e) => e.type === 'purchase');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      credits: 100,
      balanceAfter: 100,
      balanceKind: 'wallet',
      accountId: client.subAccountId,
      payment: {
        purchaseId: purchase.id,
        amount: 1500,
        currency: 'usd',
        stripeAccountId: seller.stripeAccountId,
        checkoutSessionId: purchase.checkoutSessionId,
      },
    });
    expect(entries[0]?.payment).toMatchObject({ paymentIntentId: expect.stringMatching(/^pi_/) });
  });

  it('a number of credits: ceil(credits × price), paid, credited; the dashboard shows purchases, spend, use and trend', async () => {
    const created = expectStatus(await buy(client.token, client.subAccountId, { credits: 7 }), 201);
    expect(created.body.purchase).toMatchObject({ credits: 7, amount: 105, packageId: null });
    const before = (await walletOf(client.token, client.subAccountId)).body.balance as number;
    expect((await control(`/sandbox/checkout/sessions/${created.body.purchase.checkoutSessionId}/pay`)).status).toBe(200);
    await waitFor(async () => (await walletOf(client.token, client.subAccountId)).body.balance === before + 7);

    // The client's bot answers 30 messages out of its wallet.
    expectStatus(await chargeUsage(client.subAccountId, { type: 'ai_response', quantity: 30 }), 201);
    await pipelineIdle(); // the daily consumption is the usage rollups', built from the stream

    const dash = expectStatus(await api('GET', '/v1/reselling/dashboard', { token: seller.agency.token }), 200);
    expect(dash.body.currency).toBe('usd');
    const row = dash.body.items.find((i: { subAccountId: string }) => i.subAccountId === client.subAccountId);
    expect(row).toMatchObject({
      purchasedCredits: before + 7,
      consumedCredits: 30,
      remaining: before + 7 - 30,
      totalSpend: 1500 + 105,
      spend: [{ currency: 'usd', amount: 1605 }],
      purchases: 2,
    });
    expect(row.series).toHaveLength(30);
    const day = row.series.find((d: { date: string }) => d.date === today());
    expect(day).toEqual({ date: today(), purchased: 107, consumed: 30, refunded: 0 });
    // The wallet equals its entries.
    const entries = (await ledgerEntries(seller.agency.agencyId)).filter((e) => e.accountId === client.subAccountId);
    expect(entries.reduce((n, e) => n + e.credits, 0)).toBe(row.remaining);
  });

  it('the agency buys pool credits from the platform the same way: Checkout on the platform account, pool credited', async () => {
    const created = expectStatus(
      await api('POST', '/v1/credits/purchases', {
        token: seller.agency.token,
        body: { packageId: 'pool_1000' },
        headers: { 'idempotency-key': `pool-${Date.now()}` },
      }),
      201,
    );
    const { purchase } = created.body;
    expect(purchase).toMatchObject({ credits: 1000, amount: 900, currency: 'usd' });
    // The platform's own account: visible without a Stripe-Account.
    const session = await sdk().checkout.sessions.retrieve(purchase.checkoutSessionId);
    expect(session.client_reference_id).toBe(purchase.id);
    expect((await control(`/sandbox/checkout/sessions/${purchase.checkoutSessionId}/pay`)).status).toBe(200);
    await waitFor(async () => (await api('GET', '/v1/credits/balance', { token: seller.agency.token })).body.balance === 1000);
    const list = expectStatus(await api('GET', '/v1/credits/purchases', { token: seller.agency.token }), 200);
    expect(list.body.items.map((p: { status: string }) => p.status)).toEqual(['paid']);
    const pool = (await ledgerEntries(seller.agency.agencyId)).filter((e) => e.balanceKind === 'pool');
    expect(pool).toEqual([expect.objectContaining({ type: 'purchase', credits: 1000, balanceAfter: 1000 })]);
  });
});
