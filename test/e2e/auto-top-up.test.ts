import { describe, expect, it } from 'vitest';
import { judgeBalance } from '#domain/auto-top-up/detect';
import { api, waitFor } from '../support/api';
import {
  autoPurchases,
  debitPool,
  intentEvents,
  mailsWith,
  paymentIntentsOf,
  topUpAgency,
  topUpSettings,
  waitForPool,
} from '../support/auto-top-up';
import { expectStatus, ledgerEntries, poolBalance, topUp } from '../support/ledger';
import { pipelineIdle } from '../support/pipeline';
import { control, purchaseRow, sandboxUrl, sdk } from '../support/reselling';

/** The purchase once Stripe's refunds of it add up to `amountRefunded` (its charge.refunded settled). */
const refundedTo = (id: string | undefined, amountRefunded: number) =>
  waitFor(async () => {
    const row = await purchaseRow(id ?? '');
    return row?.amountRefunded === amountRefunded ? row : undefined;
  });

/**
 * Auto top-up (issue 22) end to end: a card saved on the sandbox's setup page, the pool's
 * crossings seen by the recharge detector from the table stream, off-session PaymentIntents in
 * the sandbox, their outcomes, and the emails read from the local SES inbox.
 */
describe('auto top-up', () => {
  it('20 debits racing across the threshold from two containers: one PaymentIntent, one credit, one purchase', async () => {
    const { agency, customer } = await topUpAgency({ pool: 1000, threshold: 500, credits: 1000 });
    // 20 debits of 30 (600 credits) at once, half through the gateway, half in this process: 1000 → 400.
    const statuses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => debitPool(agency.agencyId, 30, i % 2 ? 'gateway' : 'test process')),
    );
    expect(statuses.every((s) => s === 201)).toBe(true);
    await waitForPool(agency.agencyId, (n) => n === 1400, 'the pool topped up once: 400 + 1000');
    await pipelineIdle();
    expect(await poolBalance(agency.agencyId)).toBe(1400);
    const bought = await autoPurchases(agency.token);
    expect(bought.map((p) => [p.status, p.credits])).toEqual([['paid', 1000]]);
    expect(await paymentIntentsOf(customer)).toHaveLength(1);
    const credits = (await ledgerEntries(agency.agencyId)).filter((e) => e.type === 'purchase');
    expect(credits.map((e) => e.credits)).toEqual([1000]);
    const settings = await topUpSettings(agency.token);
    expect(settings).toMatchObject({ enabled: true, failuresInARow: 0, lastAttempt: { status: 'succeeded' } });

    // Stripe sends payment_intent.succeeded again (twice): nothing more is credited.
    const [succeeded] = await intentEvents(customer, 'payment_intent.succeeded');
    for (let i = 0; i < 2; i++) expect((await control(`/sandbox/events/${succeeded?.id}/resend`)).status).toBe(200);
    await waitFor(
      async () => (await intentEvents(customer, 'payment_intent.succeeded')).filter((d) => d.status === 200).length >= 3,
      15_000,
      'both redeliveries answered',
    );
    await pipelineIdle();
    expect(await poolBalance(agency.agencyId)).toBe(1400);
    expect((await ledgerEntries(agency.agencyId)).filter((e) => e.type === 'purchase')).toHaveLength(1);
  });

  it('a crossing seen by five detector containers at once: one attempt, one email', async () => {
    // A declined card: the pool stays below the threshold, so every container judges a real crossing.
    const { agency, customer } = await topUpAgency({ pool: 600, threshold: 500, credits: 1000, card: 'decline' });
    expect(await debitPool(agency.agencyId, 200)).toBe(201);
    const seen = { balance: 'pool' as const, agencyId: agency.agencyId, accountId: agency.agencyId };
    await Promise.all(Array.from({ length: 5 }, () => judgeBalance({ ...seen, at: new Date() })));
    await pipelineIdle();
    expect(await paymentIntentsOf(customer)).toHaveLength(1);
    expect(await autoPurchases(agency.token)).toHaveLength(1);
    expect(await mailsWith(agency.email, /^Auto top-up failed/)).toHaveLength(1);
  });

  it('enabling without a saved card is refused (409 no_payment_method)', async () => {
    const { signUpAgency } = await import('../support/api');
    const agency = await signUpAgency('agency');
    const res = await api('PUT', '/v1/credits/auto-top-up', {
      token: agency.token,
      body: { enabled: true, threshold: 100, credits: 1000 },
    });
    expect([res.status, res.body.code]).toEqual([409, 'no_payment_method']);
    expect((await topUpSettings(agency.token)).enabled).toBe(false);
  });

  it('a declined card: the purchase fails, the agency is emailed why', async () => {
    const { agency } = await topUpAgency({ pool: 600, threshold: 500, credits: 1000, card: 'decline' });
    expect(await debitPool(agency.agencyId, 200)).toBe(201);
    const [mail] = await waitFor(
      async () => {
        const found = await mailsWith(agency.email, /^Auto top-up failed/);
        return found.length ? found : undefined;
      },
      20_000,
      'the decline email',
    );
    expect(mail?.body.text).toContain('your bank declined the card without giving a reason');
    const settings = await topUpSettings(agency.token);
    expect(settings).toMatchObject({ enabled: true, failuresInARow: 1, lastAttempt: { status: 'failed' } });
    expect((await autoPurchases(agency.token)).map((p) => p.status)).toEqual(['failed']);
    expect(await poolBalance(agency.agencyId)).toBe(400);
  });

  it('authentication required: the agency is emailed a Checkout link, and paying there credits the pool', async () => {
    const { agency } = await topUpAgency({ pool: 600, threshold: 500, credits: 1000, card: 'authentication_required' });
    expect(await debitPool(agency.agencyId, 200)).toBe(201);
    const [mail] = await waitFor(
      async () => {
        const found = await mailsWith(agency.email, /^Auto top-up: your bank asks you to confirm/);
        return found.length ? found : undefined;
      },
      20_000,
      'the authentication email',
    );
    const link = /https?:\/\/\S+\/sandbox\/pages\/checkout\/(cs_[A-Za-z0-9_]+)/.exec(mail?.body.text ?? '');
    expect(link, 'a Checkout link in the email').toBeTruthy();
    expect((await topUpSettings(agency.token)).lastAttempt.status).toBe('requires_action');
    expect((await control(`/sandbox/checkout/sessions/${link?.[1]}/pay`)).status).toBe(200);
    await waitForPool(agency.agencyId, (n) => n === 1400, 'the pool credited once paid on Checkout');
    expect((await autoPurchases(agency.token)).map((p) => p.status)).toEqual(['paid']);
    // The settings learn it with the credits: paid, no failure in a row.
    expect(await topUpSettings(agency.token)).toMatchObject({ failuresInARow: 0, lastAttempt: { status: 'succeeded' } });
  });

  it('a refund of an auto top-up takes its share back, as for a Checkout purchase; never below zero', async () => {
    const { agency } = await topUpAgency({ pool: 600, threshold: 500, credits: 1000 });
    expect(await debitPool(agency.agencyId, 200)).toBe(201);
    await waitForPool(agency.agencyId, (n) => n === 1400, 'the top-up');
    await pipelineIdle();
    // Off from here, so the debits below make no new crossing.
    const off = { enabled: false, threshold: 500, credits: 1000 };
    expectStatus(await api('PUT', '/v1/credits/auto-top-up', { token: agency.token, body: off }), 200, 'off');
    const [bought] = await autoPurchases(agency.token);
    const row = await purchaseRow(bought?.id);
    const { amount, paymentIntentId } = row as { amount: number; paymentIntentId: string };

    // A quarter refunded at Stripe (the platform's own account): its share of the credits leaves the pool.
    const part = Math.floor(amount / 4);
    const share = Math.floor((1000 * part) / amount);
    await sdk().refunds.create({ payment_intent: paymentIntentId, amount: part });
    expect(await refundedTo(bought?.id, part)).toMatchObject({ status: 'refunded', creditsRefunded: share });
    expect(await poolBalance(agency.agencyId)).toBe(1400 - share);

    // Most of the rest spent, then the rest refunded: the pool stops at zero, the shortfall recorded.
    expect(await debitPool(agency.agencyId, 1400 - share - 100)).toBe(201);
    await sdk().refunds.create({ payment_intent: paymentIntentId });
    expect(await refundedTo(bought?.id, amount)).toMatchObject({
      status: 'refunded',
      creditsRefunded: 1000,
      refundShortfall: 1000 - share - 100,
    });
    expect(await poolBalance(agency.agencyId)).toBe(0);
    const refunds = (await ledgerEntries(agency.agencyId)).filter((e) => e.type === 'refund');
    expect(refunds.map((e) => [e.credits, e.balanceAfter])).toEqual([
      [-share, 1400 - share],
      [-100, 0],
    ]);
    expect(await debitPool(agency.agencyId, 1)).toBe(402);
  });

  it('a dispute of an auto top-up takes its credits back while open and lost, gives them back when won', async () => {
    const { agency } = await topUpAgency({ pool: 600, threshold: 500, credits: 1000 });
    expect(await debitPool(agency.agencyId, 200)).toBe(201);
    await waitForPool(agency.agencyId, (n) => n === 1400, 'the top-up');
    await pipelineIdle();
    const off = { enabled: false, threshold: 500, credits: 1000 };
    expectStatus(await api('PUT', '/v1/credits/auto-top-up', { token: agency.token, body: off }), 200, 'off');
    const [bought] = await autoPurchases(agency.token);
    const { paymentIntentId } = (await purchaseRow(bought?.id)) as { paymentIntentId: string };
    const charge = (await sdk().paymentIntents.retrieve(paymentIntentId)).latest_charge as string;

    // The cardholder disputes the charge: the credits leave the pool at once (the pool has them).
    const opened = await control(`/sandbox/charges/${charge}/dispute`);
    expect(opened.status).toBe(200);
    await waitForPool(agency.agencyId, (n) => n === 400, 'the credits taken back while the dispute is open');
    expect((await purchaseRow(bought?.id))?.status).toBe('disputed');
    // Won: the credits come back, once.
    expect((await control(`/sandbox/disputes/${opened.body.id}/close`, { outcome: 'won' })).status).toBe(200);
    await waitForPool(agency.agencyId, (n) => n === 1400, 'the credits given back when the dispute is won');
    await pipelineIdle();
    const moves = (await ledgerEntries(agency.agencyId)).filter((e) => e.type === 'dispute').map((e) => e.credits);
    expect(moves.sort((a, b) => a - b)).toEqual([-1000, 1000]);
    expect(await poolBalance(agency.agencyId)).toBe(1400);
  });

  it('three failures in a row turn auto top-up off, by email and on GET; a crossing while off tries nothing', async () => {
    const { agency, customer } = await topUpAgency({ pool: 600, threshold: 500, credits: 1000, card: 'decline' });
    for (let failure = 1; failure <= 3; failure++) {
      expect(await debitPool(agency.agencyId, 200)).toBe(201); // 600 → 400: a crossing
      await waitFor(async () => (await topUpSettings(agency.token)).failuresInARow === failure, 20_000, `failure ${failure}`);
      // Back above the threshold (re-armed), for the next crossing.
      expectStatus(await topUp(agency.agencyId, 200), 201, 'top-up');
      await pipelineIdle();
    }
    const settings = await topUpSettings(agency.token);
    expect(settings).toMatchObject({ enabled: false, disabledReason: 'three_failures_in_a_row', failuresInARow: 3 });
    await waitFor(async () => (await mailsWith(agency.email, /turned off after 3 failed/)).length === 1, 20_000, 'off email');
    // While off, a crossing makes no attempt and sends nothing.
    expect(await debitPool(agency.agencyId, 200)).toBe(201);
    await pipelineIdle();
    expect(await paymentIntentsOf(customer)).toHaveLength(3);
    expect(await mailsWith(agency.email, /^Auto top-up failed/)).toHaveLength(3);
    expect(await autoPurchases(agency.token)).toHaveLength(3);
  });

  it('at most 5 a day: the 6th crossing makes no attempt and the agency is told once', async () => {
    const { agency, customer } = await topUpAgency({ pool: 600, threshold: 500, credits: 100 });
    for (let n = 1; n <= 6; n++) {
      const before = await poolBalance(agency.agencyId);
      expect(await debitPool(agency.agencyId, before - 450)).toBe(201); // down to 450: a crossing
      if (n <= 5) await waitForPool(agency.agencyId, (b) => b === 550, `top-up ${n}`);
      await pipelineIdle();
    }
    expect(await poolBalance(agency.agencyId)).toBe(450);
    expect(await paymentIntentsOf(customer)).toHaveLength(5);
    await waitFor(async () => (await mailsWith(agency.email, /paused for today/)).length === 1, 20_000, 'the cap email');
  });

  it('the sandbox serves the setup page and its buttons', async () => {
    const { signUpAgency } = await import('../support/api');
    const agency = await signUpAgency('agency');
    const opened = expectStatus(await api('POST', '/v1/credits/auto-top-up/payment-method', { token: agency.token }), 201);
    const page = await (await fetch(opened.body.checkoutUrl)).text();
    expect(page).toContain('Save card 4242');
    expect(opened.body.checkoutUrl.startsWith(sandboxUrl())).toBe(true);
  });
});
