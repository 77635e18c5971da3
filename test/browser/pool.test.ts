/**
 * The agency pool in a real browser: buying a package or an amount from the platform through
 * Checkout (once however often it clicks), and auto top-up: a card saved through Checkout, its
 * settings and the alert levels, a top-up paid, the runway lines, and removing the card.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api, createSubAccount, waitFor } from '../support/api';
import { saveCard } from '../support/auto-top-up';
import { expectAccessible, expectText, fieldError, screenshot } from '../support/browser';
import { agencyWithConsole, consoleBrowser, newAgency } from '../support/console-browser';
import { expectStatus, patchSub } from '../support/ledger';
import { pipelineIdle } from '../support/pipeline';
import { grantWith } from '../support/recharge';
import { stack } from '../support/stack';

const b = consoleBrowser();
const DAY = 24 * 3600 * 1000;

/** Usage of `quantity` credits on each of the `days` days before today (the test stack's clock). */
async function dailyUse(accountId: string, days: number, quantity: number) {
  for (let d = days; d >= 1; d--) {
    const used = await api('POST', `/v1/accounts/${accountId}/usage`, {
      token: stack.platformApiKey,
      headers: { 'idempotency-key': randomUUID() },
      body: { type: 'ai_response', quantity },
      clock: new Date(Date.now() - d * DAY).toISOString(),
    });
    expect(used.status).toBe(201);
  }
}

describe('the agency pool', () => {
  it('buys a pool package through Checkout', async () => {
    const { agency, page } = await agencyWithConsole(b);
    const offers = (await api('GET', '/v1/credits/packages', { token: agency.token })).body;
    const pkg = offers.packages[0];
    const buy = page.getByRole('form', { name: 'Buy pool credits' });
    await buy.getByLabel(new RegExp(`^${pkg.credits.toLocaleString('en-US')} credits for`)).check();
    await expectAccessible(page, 'buy pool credits, a package chosen');
    await buy.getByRole('button', { name: 'Buy pool credits' }).click();
    await page.getByRole('button', { name: 'Pay', exact: true }).click();
    await page.waitForURL(/\/credits\/purchases\/\w+\?checkout=success/);
    const purchases = (await api('GET', '/v1/credits/purchases', { token: agency.token })).body.items;
    expect(purchases[0]).toMatchObject({ credits: pkg.credits, amount: pkg.price, packageId: pkg.id });
  });

  it('the agency buys pool credits: a charge too small refused, then one purchase however often it clicks, into the pool', async () => {
    const { agency, page } = await agencyWithConsole(b, { pool: 1000 });
    const buy = page.getByRole('form', { name: 'Buy pool credits' });
    await buy.getByLabel('Credits to buy').fill('10');
    await buy.getByRole('button', { name: 'Buy pool credits' }).click();
    await expectText(buy.getByRole('alert'), /^That amount is below the smallest charge/);
    await expectAccessible(page, 'buy pool credits refused');
    await buy.getByLabel('Credits to buy').fill('500');
    await buy.getByRole('button', { name: 'Buy pool credits' }).dblclick();
    await page.getByRole('button', { name: 'Pay', exact: true }).click();
    await page.waitForURL(/\/credits\/purchases\/\w+\?checkout=success/);
    await expectText(page.getByRole('status'), /arrive in the agency pool/);
    const purchases = await api('GET', '/v1/credits/purchases', { token: agency.token });
    expect(purchases.body.items).toHaveLength(1);
    expect(purchases.body.items[0].credits).toBe(500);
    await waitFor(async () => (await api('GET', '/v1/credits/balance', { token: agency.token })).body.balance === 1500);
    await page.getByRole('link', { name: 'Back to the dashboard' }).click();
    await expectText(page.getByTestId('pool-balance'), '1,500 credits');
  });

  it('auto top-up: refused without a card, a card saved through Checkout, refusals next to their fields, saved; the alerts', async () => {
    const { agency, page } = await agencyWithConsole(b, { pool: 1000 });
    // No use yet: no runway to judge by, and no line.
    expect((await api('GET', '/v1/credits/balance', { token: agency.token })).body.runway).toBeNull();
    const form = page.getByRole('form', { name: 'Auto top-up' });
    await expectText(page.getByTestId('saved-card'), /^No card is saved/);
    expect(await page.getByTestId('pool-runway').count()).toBe(0);

    // No card yet: turning it on is refused (409 no_payment_method), said next to the switch.
    await expectText(form.getByTestId('auto-top-up-state'), 'Auto top-up is off.');
    await form.getByLabel('Top up the pool automatically').check();
    await form.getByLabel('When the pool falls below (credits)').fill('100');
    await form.getByLabel('Credits to buy each time').fill('1000');
    await form.getByRole('button', { name: 'Save auto top-up' }).click();
    expect(await fieldError(page, 'Top up the pool automatically')).toBe('Save a card first (above), then turn auto top-up on.');
    expect(await form.getByLabel('Top up the pool automatically').getAttribute('aria-invalid')).toBe('true');
    await expectAccessible(page, 'auto top-up refused (no card)');

    // Save a card: to the sandbox's setup Checkout and back; the card shows as brand, last 4 and expiry.
    await page.getByRole('button', { name: 'Save a card' }).click();
    await page.getByRole('button', { name: 'Save card 4242 (payments succeed)' }).click();
    await page.waitForURL(/\/credits\/auto-top-up\?setup=success/);
    await expectText(page.getByRole('status'), 'Your card is saved. Turn auto top-up on below.');
    await expectText(page.getByTestId('saved-card'), /^Visa ending 4242, expires 12\/\d{4}$/);
    await expectAccessible(page, 'card saved');
    await screenshot(page, 'auto-top-up');
    await page.getByRole('link', { name: 'Back to the dashboard' }).click();

    // Fewer credits than one charge can buy: 400, said next to its field; then saved, the state in words.
    await form.getByLabel('Top up the pool automatically').check();
    await form.getByLabel('When the pool falls below (credits)').fill('950');
    await form.getByLabel('Credits to buy each time').fill('1');
    await form.getByRole('button', { name: 'Save auto top-up' }).click();
    expect(await fieldError(page, 'Credits to buy each time')).toMatch(/^Must be at least \d+$/);
    await form.getByLabel('Credits to buy each time').fill('1000');
    await form.getByRole('button', { name: 'Save auto top-up' }).click();
    await expectText(form.getByRole('status'), 'Auto top-up saved.');
    await expectText(
      form.getByTestId('auto-top-up-state'),
      'Auto top-up is on: when the pool falls below 950 credits, 1,000 credits are bought.',
    );
    expect((await api('GET', '/v1/credits/auto-top-up', { token: agency.token })).body).toMatchObject({
      enabled: true,
      threshold: 950,
      credits: 1000,
    });

    // The alert levels, an empty field off.
    const alerts = page.getByRole('form', { name: 'Low-balance alerts' });
    await alerts.getByLabel('Email me when the pool falls below (credits)').fill('300');
    await alerts.getByRole('button', { name: 'Save alerts' }).click();
    await expectText(alerts.getByRole('status'), 'Alerts saved.');
    expect((await api('GET', '/v1/credits/alerts', { token: agency.token })).body).toEqual({ poolBelow: 300, walletBelow: null });
    await alerts.getByLabel("Email me when a client's wallet falls below (credits)").fill('50');
    await alerts.getByRole('button', { name: 'Save alerts' }).click();
    await expectText(alerts.getByRole('status'), 'Alerts saved.');
    expect((await api('GET', '/v1/credits/alerts', { token: agency.token })).body).toEqual({ poolBelow: 300, walletBelow: 50 });
    await expectAccessible(page, 'auto top-up and alerts');
  });

  it('a week of use: the top-up paid shows as the last one; the runway lines of the pool and of a reselling wallet', async () => {
    const agency = await newAgency({ pool: 1200 });
    const reselling = await createSubAccount(agency.token);
    const manual = await createSubAccount(agency.token);
    expectStatus(await patchSub(agency.token, reselling.subAccountId, { creditMode: 'reselling' }), 200, 'reselling');
    expectStatus(await grantWith(agency.token, reselling.subAccountId, 200), 201, 'grant');
    await saveCard(agency, 'success');
    const settings = { enabled: true, threshold: 950, credits: 1000 };
    expectStatus(await api('PUT', '/v1/credits/auto-top-up', { token: agency.token, body: settings }), 200, 'auto top-up');

    // 100 a day on the days before today: the first debit crosses 950, the saved card pays 1,000 once; the runway reads the week.
    await dailyUse(agency.agencyId, 7, 100);
    const balance = async () => (await api('GET', '/v1/credits/balance', { token: agency.token })).body;
    await waitFor(async () => (await balance()).balance === 1000 - 700 + 1000, 20_000, 'the auto top-up');
    // A reselling client's wallet: three days of use before today give its runway, on its page.
    await dailyUse(reselling.subAccountId, 3, 20);
    await pipelineIdle();
    const now = await balance();
    expect(now.runway).toMatchObject({ basis: '7d', burnPerDay: 100 });
    const page = await b.signedIn(agency);
    await expectText(
      page.getByTestId('pool-runway'),
      `At this pace your credits last about ${now.runway.days} days (about 100 a day over the last 7 days).`,
    );
    const form = page.getByRole('form', { name: 'Auto top-up' });
    await expectText(form.getByTestId('auto-top-up-last'), /^Last top-up: paid on \d{4}-\d\d-\d\d \d\d:\d\d UTC\.$/);

    const wallet = (await api('GET', `/v1/accounts/${reselling.subAccountId}/wallet`, { token: agency.token })).body;
    expect(wallet.runway).toMatchObject({ basis: '7d' });
    await page.getByLabel('Account', { exact: true }).selectOption({ label: reselling.name });
    await page.waitForURL(`**/accounts/${reselling.subAccountId}`);
    await expectText(
      page.getByTestId('wallet-runway'),
      new RegExp(`^At this pace your credits last about ${wallet.runway.days} days `),
    );
    await expectAccessible(page, 'a reselling client with its runway');
    // A client in manual mode has no wallet, and no runway line.
    await page.getByLabel('Account', { exact: true }).selectOption({ label: manual.name });
    await page.waitForURL(`**/accounts/${manual.subAccountId}`);
    // Its own page, not the last one's still on screen: the heading and the usage render with the wallet.
    await expectText(page.getByRole('heading', { level: 1 }), manual.name);
    await page.getByTestId('account-usage-total').waitFor();
    expect(await page.getByTestId('wallet-runway').count()).toBe(0);
  });

  it('removes the saved card after a confirm: auto top-up turns off, and says why', async () => {
    const agency = await newAgency({ pool: 1000 });
    await saveCard(agency, 'success');
    const settings = { enabled: true, threshold: 100, credits: 1000 };
    expectStatus(await api('PUT', '/v1/credits/auto-top-up', { token: agency.token, body: settings }), 200, 'auto top-up');
    const page = await b.signedIn(agency);
    const form = page.getByRole('form', { name: 'Auto top-up' });
    await expectText(page.getByTestId('saved-card'), /^Visa ending 4242/);
    await page.getByRole('button', { name: 'Remove the card' }).click();
    const confirm = page.getByRole('dialog', { name: 'Remove the saved card?' });
    await expectAccessible(page, 'remove the card confirm');
    await confirm.getByRole('button', { name: 'Remove', exact: true }).click();
    await confirm.waitFor({ state: 'hidden' });
    await expectText(page.getByTestId('saved-card'), /^No card is saved/);
    await expectText(form.getByTestId('auto-top-up-state'), 'Auto top-up is off: the saved card was removed.');
    expect(await form.getByLabel('Top up the pool automatically').isChecked()).toBe(false);
    expect((await api('GET', '/v1/credits/auto-top-up', { token: agency.token })).body).toMatchObject({
      enabled: false,
      paymentMethod: null,
    });
  });
});
