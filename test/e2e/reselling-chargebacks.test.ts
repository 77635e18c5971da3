/**
 * What happens to credits when the money behind them goes back, end to end through the Stripe
 * sandbox (which sends its events to the platform as Stripe would): a chargeback takes back
 * what remains of the disputed credits (never below zero, the shortfall recorded, the agency
 * emailed) and returns them when won, leaves them taken when lost; a refund that fails gives
 * its credits back; pool purchases too. And credits nobody could spend are never sold: a closed
 * sub-account buys nothing, and a payment that lands after it closed is refunded at Stripe; one
 * that lands after a switch to manual waits in the wallet, and the agency is told. An agency
 * that disconnects the platform from its Stripe account cannot sell until it connects again.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { api, emailsTo, type SubAccountFixture, waitFor } from '../support/api';
import { chargeUsage, expectStatus, ledgerEntries, patchSub, poolBalance } from '../support/ledger';
import {
  buy,
  control,
  purchaseBecomes,
  purchaseRow,
  type ReadyAgency,
  readyAgency,
  resellingClient,
  sandboxUrl,
  sdk,
  walletBalance,
} from '../support/reselling';

let seller: ReadyAgency;

beforeAll(async () => {
  seller = await readyAgency();
}, 60_000);

interface Bought {
  client: SubAccountFixture;
  id: string;
  session: string;
  amount: number;
}

async function bought(credits: number, client?: SubAccountFixture): Promise<Bought> {
  const buyer = client ?? (await resellingClient(seller.agency.token));
  const p = expectStatus(await buy(buyer.token, buyer.subAccountId, { credits }), 201).body.purchase;
  return { client: buyer, id: p.id, session: p.checkoutSessionId, amount: p.amount };
}

async function paid(credits: number): Promise<Bought> {
  const p = await bought(credits);
  expect((await control(`/sandbox/checkout/sessions/${p.session}/pay`)).status).toBe(200);
  await purchaseBecomes(p.id, 'paid');
  return p;
}

const entriesOf = async (purchaseId: string) =>
  (await ledgerEntries(seller.agency.agencyId))
    .filter((e) => (e.payment as { purchaseId?: string } | undefined)?.purchaseId === purchaseId)
    .map((e) => [e.type, e.credits]);

/** The purchase once its stored state satisfies `ok`. */
const purchaseWhen = (id: string, ok: (row: Record<string, any>) => boolean, label: string) =>
  waitFor(
    async () => {
      const row = await purchaseRow(id);
      return row && ok(row) ? row : undefined;
    },
    15_000,
    label,
  );

const asSeller = () => ({ stripeAccount: seller.stripeAccountId });
const paymentOf = async (session: string) =>
  (await sdk().checkout.sessions.retrieve(session, {}, asSeller())).payment_intent as string;
const disputeOf = async (session: string) =>
  (await sdk().disputes.list({ payment_intent: await paymentOf(session) }, asSeller())).data[0];

/** Until the sandbox has delivered every attempt of these events (the platform answered them all). */
async function stripeDelivered(query: string) {
  await waitFor(
    async () => {
      const res = await fetch(`${sandboxUrl()}/sandbox/events?${query}`);
      const { data } = (await res.json()) as { data: Array<{ outcome: string }> };
      return data.length > 0 && data.every((d) => d.outcome !== 'pending');
    },
    15_000,
    `Stripe's ${query} deliveries`,
  );
}

const mailTo = (subject: RegExp) =>
  waitFor(async () => (await emailsTo(seller.agency.email)).find((m) => subject.test(m.subject)), 15_000, `${subject}`);

describe('chargebacks', () => {
  it('a dispute takes back what remains (the shortfall recorded, the agency emailed); won, the credits return', async () => {
    const p = await paid(100);
    expectStatus(await chargeUsage(p.client.subAccountId, { type: 'ai_response', quantity: 30 }), 201);
    expect((await control(`/sandbox/checkout/sessions/${p.session}/dispute`)).status).toBe(200);
    const disputed = await purchaseWhen(p.id, (r) => r.status === 'disputed', 'the dispute to settle');
    expect(disputed).toMatchObject({ amountDisputed: p.amount, creditsDisputed: 100, disputeShortfall: 30 });
    expect(await walletBalance(p.client.subAccountId)).toBe(0);
    expect(await entriesOf(p.id)).toEqual([
      ['purchase', 100],
      ['dispute', -70],
    ]);
    const opened = await mailTo(/^A payment was disputed/);
    expect(opened.body.text).toContain('70 credits were taken back');
    expect(opened.body.text).toContain('30 credits had already been spent');
    // The client sees the purchase as disputed.
    const listed = expectStatus(
      await api('GET', `/v1/accounts/${p.client.subAccountId}/credit-purchases`, { token: p.client.token }),
      200,
    );
    expect(listed.body.items[0]).toMatchObject({ id: p.id, status: 'disputed', amountDisputed: p.amount, creditsDisputed: 100 });

    const dispute = await disputeOf(p.session);
    expect((await control(`/sandbox/disputes/${dispute?.id}/close`, { outcome: 'won' })).status).toBe(200);
    await purchaseWhen(p.id, (r) => r.status === 'paid' && r.disputeStatus === 'won', 'the won dispute to settle');
    // The shortfall is forgiven first: only the 70 credits taken come back.
    expect(await walletBalance(p.client.subAccountId)).toBe(70);
    expect(await entriesOf(p.id)).toEqual([
      ['purchase', 100],
      ['dispute', -70],
      ['dispute', 70],
    ]);
    expect((await mailTo(/^Dispute won/)).body.text).toContain('70 credits returned');
  });

  it('a dispute lost leaves the credits taken, and the agency is told', async () => {
    const p = await paid(40);
    expect((await control(`/sandbox/checkout/sessions/${p.session}/dispute`)).status).toBe(200);
    await purchaseWhen(p.id, (r) => r.status === 'disputed', 'the dispute');
    const dispute = await disputeOf(p.session);
    expect((await control(`/sandbox/disputes/${dispute?.id}/close`, { outcome: 'lost' })).status).toBe(200);
    await purchaseWhen(p.id, (r) => r.disputeStatus === 'lost', 'the lost dispute');
    expect(await entriesOf(p.id)).toEqual([
      ['purchase', 40],
      ['dispute', -40],
    ]);
    expect((await purchaseRow(p.id))?.status).toBe('disputed');
    await mailTo(/^Dispute lost/);
  });

  it('a refund that fails gives its credits back', async () => {
    const p = await paid(40);
    expect((await control(`/sandbox/checkout/sessions/${p.session}/refund`, { amount: p.amount / 2 })).status).toBe(200);
    await purchaseWhen(p.id, (r) => r.status === 'refunded', 'the refund');
    expect(await walletBalance(p.client.subAccountId)).toBe(20);
    const [refund] = (await sdk().refunds.list({ payment_intent: await paymentOf(p.session) }, asSeller())).data;
    expect((await control(`/sandbox/refunds/${refund?.id}/fail`)).status).toBe(200);
    await purchaseWhen(p.id, (r) => r.status === 'paid' && r.amountRefunded === 0, 'the failed refund');
    expect(await walletBalance(p.client.subAccountId)).toBe(40);
    expect(await entriesOf(p.id)).toEqual([
      ['purchase', 40],
      ['refund', -20],
      ['refund', 20],
    ]);
  });

  it("a pool purchase's dispute takes the credits back out of the pool", async () => {
    const bought = expectStatus(
      await api('POST', '/v1/credits/purchases', {
        token: seller.agency.token,
        body: { credits: 500 },
        headers: { 'idempotency-key': `pool-${Date.now()}` },
      }),
      201,
    ).body.purchase;
    const before = await poolBalance(seller.agency.agencyId);
    expect((await control(`/sandbox/checkout/sessions/${bought.checkoutSessionId}/pay`)).status).toBe(200);
    await purchaseBecomes(bought.id, 'paid');
    expect(await poolBalance(seller.agency.agencyId)).toBe(before + 500);
    expect((await control(`/sandbox/checkout/sessions/${bought.checkoutSessionId}/dispute`)).status).toBe(200);
    await purchaseWhen(bought.id, (r) => r.status === 'disputed', 'the pool dispute');
    expect(await poolBalance(seller.agency.agencyId)).toBe(before);
    expect(await entriesOf(bought.id)).toEqual([
      ['purchase', 500],
      ['dispute', -500],
    ]);
  });
});

describe('credits nobody could spend are never sold', () => {
  it('a closed sub-account buys nothing; its payment that lands after it closed is refunded at Stripe, nothing credited', async () => {
    const p = await bought(30);
    expectStatus(await api('DELETE', `/v1/sub-accounts/${p.client.subAccountId}`, { token: seller.agency.token }), 204);
    const refused = await buy(seller.agency.token, p.client.subAccountId, { credits: 30 });
    expect([refused.status, refused.body.code]).toEqual([409, 'account_closed']);

    expect((await control(`/sandbox/checkout/sessions/${p.session}/pay`)).status).toBe(200);
    const row = await purchaseWhen(p.id, (r) => Boolean(r.closedAccountRefund?.refundId), 'the refund at Stripe');
    expect(row).toMatchObject({ status: 'refunded', amountRefunded: p.amount });
    expect(await entriesOf(p.id)).toEqual([]);
    expect(await walletBalance(p.client.subAccountId)).toBe(0);
    const refunds = await sdk().refunds.list({ payment_intent: await paymentOf(p.session) }, asSeller());
    expect(refunds.data.map((r) => [r.amount, r.status, r.metadata?.reason])).toEqual([
      [p.amount, 'succeeded', 'sub_account_closed'],
    ]);
    expect((await mailTo(/^A payment for closed sub-account/)).body.text).toContain(p.id);
    // The refund's own events change nothing more.
    await stripeDelivered(`type=charge.refunded&account=${seller.stripeAccountId}`);
    expect(await entriesOf(p.id)).toEqual([]);
  });

  it('a payment that lands after a switch to manual waits in the wallet (the agency is told); back in reselling, it is spent', async () => {
    const p = await bought(25);
    expectStatus(await patchSub(seller.agency.token, p.client.subAccountId, { creditMode: 'manual' }), 200);
    expect((await control(`/sandbox/checkout/sessions/${p.session}/pay`)).status).toBe(200);
    await purchaseBecomes(p.id, 'paid');
    expect(await walletBalance(p.client.subAccountId)).toBe(25);
    expect((await mailTo(/^Credits bought by .* are waiting in its wallet/)).body.text).toContain(p.id);

    expectStatus(await patchSub(seller.agency.token, p.client.subAccountId, { creditMode: 'reselling' }), 200);
    expectStatus(await chargeUsage(p.client.subAccountId, { type: 'ai_response', quantity: 25 }), 201);
    expect(await walletBalance(p.client.subAccountId)).toBe(0);
  });
});

describe('a disconnected Stripe account', () => {
  it('account.application.deauthorized: charges off, offers and purchases 409 reselling_not_ready, and no later account.updated turns them on', async () => {
    const own = await readyAgency();
    const client = await resellingClient(own.agency.token);
    expectStatus(await api('GET', `/v1/accounts/${client.subAccountId}/credit-offers`, { token: client.token }), 200);
    expect((await control(`/sandbox/accounts/${own.stripeAccountId}/deauthorize`)).status).toBe(200);
    await waitFor(
      async () => (await api('GET', '/v1/reselling/settings', { token: own.agency.token })).body.stripe?.chargesEnabled === false,
      15_000,
      'charges to be turned off',
    );
    const offers = await api('GET', `/v1/accounts/${client.subAccountId}/credit-offers`, { token: client.token });
    expect([offers.status, offers.body.code]).toEqual([409, 'reselling_not_ready']);
    const purchase = await buy(client.token, client.subAccountId, { credits: 10 });
    expect([purchase.status, purchase.body.code]).toEqual([409, 'reselling_not_ready']);

    // The onboarding's account.updated (charges enabled) delivered again, late: still off.
    const query = `type=account.updated&account=${own.stripeAccountId}`;
    const res = await fetch(`${sandboxUrl()}/sandbox/events?${query}`);
    const [update] = ((await res.json()) as { data: Array<{ id: string }> }).data;
    expect((await control(`/sandbox/events/${update?.id}/resend`)).status).toBe(200);
    await stripeDelivered(query);
    expect((await api('GET', '/v1/reselling/settings', { token: own.agency.token })).body.stripe?.chargesEnabled).toBe(false);
  });
});
