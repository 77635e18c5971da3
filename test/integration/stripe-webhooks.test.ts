/**
 * Stripe's webhooks, at the platform's routes: the signature is the only authentication (an
 * unsigned, wrongly signed, stale or tampered delivery is a 400 that changes nothing), and a
 * verified event counts only for the purchase it names on that purchase's account, amount and
 * currency (anything else: 200, ignored, nothing changes). Each refusal is followed by the same
 * event delivered correctly, which does change things: the refusals are not vacuous.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SubAccountFixture } from '../support/api';
import { expectStatus, ledgerEntries } from '../support/ledger';
import {
  changed,
  deliver,
  deliverInProcess,
  newPurchase,
  type PurchaseRef,
  purchaseRow,
  type ReadyAgency,
  readyAgency,
  resellingClient,
  sessionEvent,
  signature,
  walletBalance,
} from '../support/reselling';

let seller: ReadyAgency;
let client: SubAccountFixture;

beforeAll(async () => {
  seller = await readyAgency();
  client = await resellingClient(seller.agency.token);
}, 60_000);

const purchase = (credits = 20) => newPurchase(seller, client, credits);

/** What a webhook may not change unless it is believed: the purchase, the wallet, the entries. */
async function state(p: PurchaseRef) {
  const [row, wallet, entries] = await Promise.all([
    purchaseRow(p.id),
    walletBalance(client.subAccountId),
    ledgerEntries(seller.agency.agencyId),
  ]);
  return { status: row?.status, wallet, entries: entries.length };
}

describe('signature', () => {
  it('refuses unsigned, wrongly signed, stale and tampered deliveries with 400, changing nothing; the genuine one counts', async () => {
    const p = await purchase();
    const before = await state(p);
    const body = sessionEvent('checkout.session.completed', p);
    const now = Math.floor(Date.now() / 1000);
    const tampered = body.replace(`"amount_total": ${p.amount}`, `"amount_total": ${p.amount * 10}`);
    expect(tampered).not.toBe(body);
    const cases: Array<[string, () => ReturnType<typeof deliver>]> = [
      ['no Stripe-Signature', () => deliver(body, { signature: null })],
      ['a garbage Stripe-Signature', () => deliver(body, { signature: 'nonsense' })],
      ['a v0 scheme only', () => deliver(body, { signature: `t=${now},v0=${'a'.repeat(64)}` })],
      ['signed with another secret', () => deliver(body, { secret: `whsec_${randomBytes(16).toString('hex')}` })],
      ["signed with the platform endpoint's secret", () => deliver(body, { secret: process.env.STRIPE_WEBHOOK_SECRET })],
      ['a timestamp 301 s old', () => deliver(body, { timestamp: now - 301 })],
      ['a timestamp 10 minutes ahead', () => deliver(body, { timestamp: now + 600 })],
      ['a body changed after signing', () => deliver(tampered, { signature: signature(body) })],
      ['one byte of whitespace added after signing', () => deliver(`${body} `, { signature: signature(body) })],
      ['an empty body', () => deliver('', { signature: signature('') })],
      ['a signed body that is not JSON', () => deliver('not json')],
      ['a signed JSON body that is not an event', () => deliver('{"hello":"world"}')],
    ];
    for (const [label, send] of cases) {
      const res = await send();
      expect([label, res.status, res.body?.code]).toEqual([label, 400, 'invalid_request']);
    }
    expect(await state(p)).toEqual(before);

    const genuine = expectStatus(await deliver(body), 200);
    expect(genuine.body).toEqual({ received: true, outcome: 'paid' });
    expect(await state(p)).toEqual({ status: 'paid', wallet: before.wallet + 20, entries: before.entries + 1 });
  });

  it('verifies the exact bytes when API Gateway hands the body over base64-encoded', async () => {
    const p = await purchase();
    const body = sessionEvent('checkout.session.completed', p);
    // Signed over the base64 text instead of the bytes it stands for: refused.
    const wrong = await deliverInProcess(body, { base64: true, signature: signature(Buffer.from(body).toString('base64')) });
    expect([wrong.status, wrong.body.code]).toEqual([400, 'invalid_request']);
    expect((await purchaseRow(p.id))?.status).toBe('pending');
    const right = await deliverInProcess(body, { base64: true });
    expect(right).toEqual({ status: 200, body: { received: true, outcome: 'paid' } });
  });
});

describe('believing a verified event', () => {
  it('ignores (200) events for another account, another amount or currency, an unknown purchase, or live mode', async () => {
    const p = await purchase();
    const before = await state(p);
    const other = await readyAgency();
    const cases: Array<[string, string]> = [
      ["another agency's connected account", sessionEvent('checkout.session.completed', p, { account: other.stripeAccountId })],
      [
        'an account nobody owns',
        sessionEvent('checkout.session.completed', p, { account: `acct_${randomBytes(8).toString('hex')}` }),
      ],
      ['another amount', sessionEvent('checkout.session.completed', p, { amount: p.amount + 1 })],
      ['a lower amount', sessionEvent('checkout.session.completed', p, { amount: p.amount - 1 })],
      ['another currency', sessionEvent('checkout.session.completed', { ...p, currency: 'eur' })],
      ['another session', sessionEvent('checkout.session.completed', { ...p, checkoutSessionId: 'cs_test_other' })],
      ['an unknown purchase', sessionEvent('checkout.session.completed', { ...p, id: `pur_${'0'.repeat(26)}` })],
      [
        'live mode',
        changed(sessionEvent('checkout.session.completed', p), (e) => {
          e.livemode = true;
        }),
      ],
      [
        'an event type the platform does not act on',
        changed(sessionEvent('checkout.session.completed', p), (e) => {
          e.type = 'payment_intent.created';
        }),
      ],
    ];
    for (const [label, body] of cases) {
      const res = await deliver(body);
      expect([label, res.status, res.body?.outcome]).toEqual([label, 200, 'ignored']);
    }
    // A connected account's event on the platform's endpoint (signed with its secret) is not the platform's.
    const misrouted = await deliver(sessionEvent('checkout.session.completed', p), { endpoint: 'platform' });
    expect([misrouted.status, misrouted.body?.outcome]).toEqual([200, 'ignored']);
    expect(await state(p)).toEqual(before);

    expect((await deliver(sessionEvent('checkout.session.completed', p))).body.outcome).toBe('paid');
    expect((await state(p)).status).toBe('paid');
  });
});
