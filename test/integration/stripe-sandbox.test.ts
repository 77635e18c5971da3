import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onboardedAccount, SECRET_KEY, sessionParams, startSandboxWithReceiver, stripeClient } from '../support/stripe-sandbox';

// The local Stripe sandbox, driven only through the real `stripe` SDK (and, for what a
// person does on Stripe's pages, its control routes); events checked as the platform will
// check them, with stripe.webhooks.constructEvent on a loopback receiver.
let t: Awaited<ReturnType<typeof startSandboxWithReceiver>>;
beforeAll(async () => {
  t = await startSandboxWithReceiver();
});
afterAll(() => t?.stop());

describe('Connect onboarding', () => {
  it('creates an express account, links to the onboarding page, and onboarding sends account.updated with `account`', async () => {
    const { stripe, sandbox, receiver } = t;
    const account = await stripe.accounts.create({
      type: 'express',
      country: 'US',
      email: 'owner@agency.test',
      metadata: { agencyId: 'agy_1' },
    });
    expect(account).toMatchObject({ object: 'account', type: 'express', charges_enabled: false, details_submitted: false });
    expect(account.id).toMatch(/^acct_/);
    expect(account.metadata).toEqual({ agencyId: 'agy_1' });

    const link = await stripe.accountLinks.create({
      account: account.id,
      type: 'account_onboarding',
      refresh_url: 'http://127.0.0.1:9/refresh',
      return_url: 'http://127.0.0.1:9/return',
    });
    expect(link.object).toBe('account_link');
    expect(link.url.startsWith(`${sandbox.url}/sandbox/pages/onboard/${account.id}`)).toBe(true);
    const page = await fetch(link.url);
    expect(await page.text()).toContain('Complete onboarding');

    // The page's button: onboard, then on to return_url.
    const done = await fetch(link.url, { method: 'POST', redirect: 'manual' });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('http://127.0.0.1:9/return');
    // A used link sends the person to refresh_url, as at Stripe.
    const again = await fetch(link.url, { redirect: 'manual' });
    expect(again.headers.get('location')).toBe('http://127.0.0.1:9/refresh');

    await sandbox.settled();
    const [updated, ...more] = receiver.events('account.updated', account.id);
    expect(more).toHaveLength(0);
    expect(updated?.account).toBe(account.id);
    const object = updated?.data.object as Stripe.Account;
    expect(object).toMatchObject({ charges_enabled: true, details_submitted: true, payouts_enabled: true });
    expect(updated?.data.previous_attributes).toMatchObject({ charges_enabled: false, details_submitted: false });
    expect(receiver.received.find((r) => r.event.id === updated?.id)?.path).toBe('/connect');

    const fetched = await stripe.accounts.retrieve(account.id);
    expect(fetched.charges_enabled).toBe(true);
    // Onboarding twice changes nothing, so nothing is sent.
    expect((await t.control(`/sandbox/accounts/${account.id}/onboard`)).status).toBe(200);
    await sandbox.settled();
    expect(receiver.events('account.updated', account.id)).toHaveLength(1);
  });

  it('answers the controller form of account creation, and 403 for an account that does not exist', async () => {
    const account = await t.stripe.accounts.create({
      controller: {
        fees: { payer: 'application' },
        losses: { payments: 'application' },
        stripe_dashboard: { type: 'express' },
      },
      email: 'c@agency.test',
    });
    expect(account.type).toBe('express');
    expect(account.controller).toMatchObject({ fees: { payer: 'application' }, stripe_dashboard: { type: 'express' } });
    const missing = await t.stripe.accounts.retrieve('acct_doesnotexist').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(Stripe.errors.StripePermissionError);
    expect((missing as Stripe.errors.StripeError).code).toBe('account_invalid');
  });
});

describe('Checkout on a connected account', () => {
  it('creates a session with an application fee, shows its page, and paying completes it with a verified event', async () => {
    const { stripe, sandbox, receiver } = t;
    const account = await onboardedAccount(stripe, sandbox.url);
    const session = await stripe.checkout.sessions.create(
      sessionParams({
        payment_intent_data: { application_fee_amount: 120, metadata: { purchaseId: 'pur_1', credits: '400' } },
        customer_email: 'buyer@client.test',
      }),
      { stripeAccount: account.id },
    );
    expect(session).toMatchObject({ object: 'checkout.session', status: 'open', payment_status: 'unpaid', mode: 'payment' });
    expect(session.id).toMatch(/^cs_test_/);
    expect(session.amount_total).toBe(1000); // 250 × 4
    expect(session.currency).toBe('usd');
    expect(session.url).toBe(`${sandbox.url}/sandbox/pages/checkout/${session.id}`);
    expect(session.payment_intent).toBeNull();

    const page = await (await fetch(session.url as string)).text();
    for (const text of ['$10.00', 'USD', '>Pay<', '>Decline<', 'Pay (async success)', 'Pay (async failure)', '>Expire<'])
      expect(page).toContain(text);

    // The platform's own account cannot see it: 404 resource_missing, as at Stripe.
    const elsewhere = await stripe.checkout.sessions.retrieve(session.id).catch((e: unknown) => e);
    expect(elsewhere).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(elsewhere).toMatchObject({ statusCode: 404, code: 'resource_missing', param: 'session' });
    const other = await onboardedAccount(stripe, sandbox.url);
    const fromOther = await stripe.checkout.sessions.retrieve(session.id, {}, { stripeAccount: other.id }).catch((e) => e);
    expect(fromOther).toMatchObject({ statusCode: 404, code: 'resource_missing' });

    const paid = await t.control(`/sandbox/checkout/sessions/${session.id}/pay`);
    expect(paid.status).toBe(200);
    await sandbox.settled();

    const [completed, ...dup] = receiver.events('checkout.session.completed', session.id);
    expect(dup).toHaveLength(0);
    expect(completed?.account).toBe(account.id);
    expect(completed?.api_version).toBe(Stripe.API_VERSION);
    expect(completed?.livemode).toBe(false);
    const object = completed?.data.object as Stripe.Checkout.Session;
    expect(object).toMatchObject({ status: 'complete', payment_status: 'paid', client_reference_id: 'pur_test_1' });
    expect(object.metadata).toEqual({ purchaseId: 'pur_test_1' });

    const retrieved = await stripe.checkout.sessions.retrieve(
      session.id,
      { expand: ['payment_intent.latest_charge'] },
      { stripeAccount: account.id },
    );
    expect(retrieved).toMatchObject({ status: 'complete', payment_status: 'paid' });
    const intent = retrieved.payment_intent as Stripe.PaymentIntent;
    expect(intent).toMatchObject({ status: 'succeeded', amount: 1000, amount_received: 1000, application_fee_amount: 120 });
    expect(intent.metadata).toEqual({ purchaseId: 'pur_1', credits: '400' });
    const charge = intent.latest_charge as Stripe.Charge;
    expect(charge).toMatchObject({ status: 'succeeded', paid: true, amount: 1000, application_fee_amount: 120 });
    const sameCharge = await stripe.charges.retrieve(charge.id, {}, { stripeAccount: account.id });
    expect(sameCharge.metadata).toEqual({ purchaseId: 'pur_1', credits: '400' });
    const sameIntent = await stripe.paymentIntents.retrieve(intent.id, {}, { stripeAccount: account.id });
    expect(sameIntent.latest_charge).toBe(charge.id);

    // Paying twice is refused; no second completed event.
    expect((await t.control(`/sandbox/checkout/sessions/${session.id}/pay`)).status).toBe(400);
  });

  it('computes amount_total from unit_amount_decimal × quantity, rounded as Stripe does', async () => {
    const account = await onboardedAccount(t.stripe, t.sandbox.url);
    const session = await t.stripe.checkout.sessions.create(
      sessionParams({
        line_items: [
          {
            price_data: { currency: 'eur', unit_amount_decimal: Stripe.Decimal.from('1.5'), product_data: { name: 'credits' } },
            quantity: 101,
          },
        ],
      }),
      { stripeAccount: account.id },
    );
    expect(session.amount_total).toBe(152); // 151.5 rounds half up
    expect(session.currency).toBe('eur');
  });

  it('refuses what Stripe refuses, naming the param', async () => {
    const { stripe, sandbox } = t;
    const account = await onboardedAccount(stripe, sandbox.url);
    const cases: Array<[Stripe.Checkout.SessionCreateParams, Stripe.RequestOptions, string]> = [
      // An application fee needs a direct charge (Stripe-Account).
      [sessionParams({ payment_intent_data: { application_fee_amount: 10 } }), {}, 'payment_intent_data[application_fee_amount]'],
      [sessionParams({ expires_at: Math.floor(Date.now() / 1000) + 60 }), { stripeAccount: account.id }, 'expires_at'],
      [sessionParams({ expires_at: Math.floor(Date.now() / 1000) + 25 * 3600 }), { stripeAccount: account.id }, 'expires_at'],
      [
        sessionParams({
          line_items: [{ price_data: { currency: 'usd', unit_amount: 10, product_data: { name: 'x' } }, quantity: 1 }],
        }),
        { stripeAccount: account.id },
        'line_items',
      ],
      [
        sessionParams({ line_items: [{ price: 'price_123', quantity: 1 }] }),
        { stripeAccount: account.id },
        'line_items[0][price]',
      ],
      [{ ...sessionParams(), locale: 'fr' }, { stripeAccount: account.id }, 'locale'],
    ];
    for (const [params, options, param] of cases) {
      const err = await stripe.checkout.sessions.create(params, options).catch((e: unknown) => e);
      expect(err, param).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect((err as Stripe.errors.StripeError).param, param).toBe(param);
      expect((err as Stripe.errors.StripeError).statusCode).toBe(400);
    }
    // A connected account that has not finished onboarding cannot take payments.
    const fresh = await stripe.accounts.create({ type: 'express' });
    const notReady = await stripe.checkout.sessions.create(sessionParams(), { stripeAccount: fresh.id }).catch((e) => e);
    expect(notReady).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
  });
});

describe('Checkout outcomes', () => {
  async function openSession() {
    const account = await onboardedAccount(t.stripe, t.sandbox.url);
    const session = await t.stripe.checkout.sessions.create(sessionParams(), { stripeAccount: account.id });
    return { account, session };
  }
  const typesFor = (id: string, intentId?: string) =>
    t.receiver.received
      .filter((r) => {
        const o = r.event.data.object as { id?: string; payment_intent?: string | null };
        return o.id === id || (intentId && (o.id === intentId || o.payment_intent === intentId));
      })
      .map((r) => r.event.type);

  it('decline: 402 card_declined, the session stays open and payable, no completed event', async () => {
    const { session, account } = await openSession();
    const declined = await t.control(`/sandbox/checkout/sessions/${session.id}/decline`);
    expect(declined.status).toBe(402);
    expect(declined.body.error).toMatchObject({ type: 'card_error', code: 'card_declined', decline_code: 'generic_decline' });
    await t.sandbox.settled();
    const after = await t.stripe.checkout.sessions.retrieve(session.id, {}, { stripeAccount: account.id });
    expect(after).toMatchObject({ status: 'open', payment_status: 'unpaid' });
    expect(t.receiver.events('checkout.session.completed', session.id)).toHaveLength(0);
    const intent = await t.stripe.paymentIntents.retrieve(after.payment_intent as string, {}, { stripeAccount: account.id });
    expect(intent.status).toBe('requires_payment_method');
    expect(intent.last_payment_error?.code).toBe('card_declined');

    // The page shows the decline to a person, and the session can still be paid.
    const page = await fetch(`${t.sandbox.url}/sandbox/pages/checkout/${session.id}/decline`, { method: 'POST' });
    expect(page.status).toBe(402);
    expect(await page.text()).toContain('Your card was declined.');
    const pay = await fetch(`${t.sandbox.url}/sandbox/pages/checkout/${session.id}/pay`, { method: 'POST', redirect: 'manual' });
    expect(pay.status).toBe(303);
    expect(pay.headers.get('location')).toBe(`http://127.0.0.1:9/return?session=${session.id}`);
    await t.sandbox.settled();
    expect(t.receiver.events('checkout.session.completed', session.id)).toHaveLength(1);
    expect(typesFor(session.id, intent.id)).toEqual([
      'payment_intent.created',
      'charge.failed',
      'payment_intent.payment_failed',
      'charge.failed',
      'payment_intent.payment_failed',
      'charge.succeeded',
      'payment_intent.succeeded',
      'checkout.session.completed',
    ]);
  });

  it('pay_async_success: completed unpaid, then async_payment_succeeded paid', async () => {
    const { session, account } = await openSession();
    expect((await t.control(`/sandbox/checkout/sessions/${session.id}/pay_async_success`)).status).toBe(200);
    await t.sandbox.settled();
    const completed = t.receiver.events('checkout.session.completed', session.id);
    const succeeded = t.receiver.events('checkout.session.async_payment_succeeded', session.id);
    expect(completed.map((e) => (e.data.object as Stripe.Checkout.Session).payment_status)).toEqual(['unpaid']);
    expect(succeeded.map((e) => (e.data.object as Stripe.Checkout.Session).payment_status)).toEqual(['paid']);
    expect(succeeded[0]?.account).toBe(account.id);
    const after = await t.stripe.checkout.sessions.retrieve(session.id, {}, { stripeAccount: account.id });
    expect(after).toMatchObject({ status: 'complete', payment_status: 'paid' });
  });

  it('pay_async_failure: completed unpaid, then async_payment_failed; the session stays unpaid', async () => {
    const { session, account } = await openSession();
    expect((await t.control(`/sandbox/checkout/sessions/${session.id}/pay_async_failure`)).status).toBe(200);
    await t.sandbox.settled();
    expect(t.receiver.events('checkout.session.completed', session.id)).toHaveLength(1);
    const failed = t.receiver.events('checkout.session.async_payment_failed', session.id);
    expect(failed.map((e) => (e.data.object as Stripe.Checkout.Session).payment_status)).toEqual(['unpaid']);
    expect(t.receiver.events('checkout.session.async_payment_succeeded', session.id)).toHaveLength(0);
    const after = await t.stripe.checkout.sessions.retrieve(session.id, {}, { stripeAccount: account.id });
    expect(after).toMatchObject({ status: 'complete', payment_status: 'unpaid' });
    // Nothing was paid, so nothing can be refunded.
    expect((await t.control(`/sandbox/checkout/sessions/${session.id}/refund`)).status).toBe(400);
  });

  it('expire: by the control route (no request) and by the API (its request id and idempotency key)', async () => {
    const first = await openSession();
    expect((await t.control(`/sandbox/checkout/sessions/${first.session.id}/expire`)).body.status).toBe('expired');
    const second = await openSession();
    const expired = await t.stripe.checkout.sessions.expire(
      second.session.id,
      {},
      { stripeAccount: second.account.id, idempotencyKey: 'expire-1' },
    );
    expect(expired).toMatchObject({ status: 'expired', url: null });
    const again = await t.stripe.checkout.sessions
      .expire(second.session.id, {}, { stripeAccount: second.account.id })
      .catch((e) => e);
    expect(again).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    await t.sandbox.settled();
    const [byControl] = t.receiver.events('checkout.session.expired', first.session.id);
    const [byApi] = t.receiver.events('checkout.session.expired', second.session.id);
    expect(byControl?.request).toEqual({ id: null, idempotency_key: null });
    expect(byApi?.request).toEqual({ id: expired.lastResponse.requestId, idempotency_key: 'expire-1' });
    expect((await t.control(`/sandbox/checkout/sessions/${first.session.id}/pay`)).status).toBe(400);
  });

  it('refund: partial (control, {amount}) then the rest (API) → charge.refunded with amount_refunded cumulative', async () => {
    const { session, account } = await openSession();
    await t.control(`/sandbox/checkout/sessions/${session.id}/pay`);
    const partial = await t.control(`/sandbox/checkout/sessions/${session.id}/refund`, { amount: 300 });
    expect(partial.status).toBe(200);
    expect(partial.body).toMatchObject({ object: 'refund', amount: 300, status: 'succeeded' });

    const paid = await t.stripe.checkout.sessions.retrieve(session.id, {}, { stripeAccount: account.id });
    const tooMuch = await t.stripe.refunds
      .create({ payment_intent: paid.payment_intent as string, amount: 701 }, { stripeAccount: account.id })
      .catch((e) => e);
    expect(tooMuch).toMatchObject({ statusCode: 400, code: 'amount_too_large', param: 'amount' });
    const rest = await t.stripe.refunds.create({ payment_intent: paid.payment_intent as string }, { stripeAccount: account.id });
    expect(rest).toMatchObject({ object: 'refund', amount: 700, status: 'succeeded' });
    const full = await t.stripe.refunds
      .create({ payment_intent: paid.payment_intent as string }, { stripeAccount: account.id })
      .catch((e) => e);
    expect(full).toMatchObject({ statusCode: 400, code: 'charge_already_refunded' });

    await t.sandbox.settled();
    const refunded = t.receiver.received
      .filter((r) => r.event.type === 'charge.refunded' && r.event.account === account.id)
      .map((r) => r.event.data.object as Stripe.Charge);
    expect(refunded.map((c) => [c.amount_refunded, c.refunded])).toEqual([
      [300, false],
      [1000, true],
    ]);
    const charge = await t.stripe.charges.retrieve(rest.charge as string, {}, { stripeAccount: account.id });
    expect(charge).toMatchObject({ amount_refunded: 1000, refunded: true });
  });
});

describe('API behaviour', () => {
  it('replays an idempotent request (same key, same params) and refuses the key with other params', async () => {
    const account = await onboardedAccount(t.stripe, t.sandbox.url);
    const options = { stripeAccount: account.id, idempotencyKey: 'purchase-pur_42' };
    const first = await t.stripe.checkout.sessions.create(sessionParams(), options);
    const second = await t.stripe.checkout.sessions.create(sessionParams(), options);
    expect(second.id).toBe(first.id);
    expect(second.lastResponse.headers['idempotent-replayed']).toBe('true');
    const changed = await t.stripe.checkout.sessions
      .create(sessionParams({ client_reference_id: 'pur_other' }), options)
      .catch((e: unknown) => e);
    expect(changed).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect((changed as Stripe.errors.StripeError).statusCode).toBe(400);
    // The same key on another account is another key.
    const other = await onboardedAccount(t.stripe, t.sandbox.url);
    const elsewhere = await t.stripe.checkout.sessions.create(sessionParams(), { ...options, stripeAccount: other.id });
    expect(elsewhere.id).not.toBe(first.id);
  });

  it('answers 401 for a missing or wrong API key and 403 for an unknown Stripe-Account', async () => {
    const wrong = stripeClient('sk_test_not_the_key_1234', t.sandbox.url, { maxNetworkRetries: 0 });
    const err = await wrong.accounts.create({ type: 'express' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect((err as Stripe.errors.StripeError).statusCode).toBe(401);
    expect((err as Stripe.errors.StripeError).message).not.toContain('not_the_key');
    const none = await fetch(`${t.sandbox.url}/v1/accounts/acct_x`);
    expect(none.status).toBe(401);
    const unknown = await t.stripe.checkout.sessions.create(sessionParams(), { stripeAccount: 'acct_nope' }).catch((e) => e);
    expect(unknown).toBeInstanceOf(Stripe.errors.StripePermissionError);
    expect((unknown as Stripe.errors.StripeError).code).toBe('account_invalid');
  });

  it('fault knob: the next n calls fail with 500 (then work again), and an SDK retry rides over one', async () => {
    const setFaults = (body: Record<string, unknown>) => t.control('/sandbox/faults', body);
    expect((await setFaults({ failNext: 2, status: 500 })).body).toEqual({ failNext: 2, status: 500 });
    for (let i = 0; i < 2; i++) {
      const err = await t.stripe.accounts.create({ type: 'express' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Stripe.errors.StripeAPIError);
      expect((err as Stripe.errors.StripeError).statusCode).toBe(500);
    }
    expect((await t.stripe.accounts.create({ type: 'express' })).id).toMatch(/^acct_/);

    await setFaults({ failNext: 1, status: 500 });
    const retrying = stripeClient(SECRET_KEY, t.sandbox.url, { maxNetworkRetries: 1 });
    const account = await retrying.accounts.create({ type: 'express', email: 'retry@agency.test' });
    expect(account.email).toBe('retry@agency.test');

    await setFaults({ failNext: 1, status: 'timeout' });
    const impatient = stripeClient(SECRET_KEY, t.sandbox.url, { maxNetworkRetries: 0, timeout: 300 });
    const timedOut = await impatient.accounts.create({ type: 'express' }).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect((await fetch(`${t.sandbox.url}/sandbox/faults`)).ok).toBe(true);
    expect(((await (await fetch(`${t.sandbox.url}/sandbox/faults`)).json()) as { failNext: number }).failNext).toBe(0);
  });
});
