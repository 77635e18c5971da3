/**
 * Reselling in a real browser: a client whose agency cannot sell yet, the agency connecting
 * Stripe (the sandbox's onboarding) and setting its prices, and a client buying credits through
 * Checkout into its wallet.
 */
import { describe, expect, it } from 'vitest';
import { api, waitFor } from '../support/api';
import { expectAccessible, expectText, screenshot, textOf } from '../support/browser';
import { consoleBrowser, newAgency } from '../support/console-browser';
import { makeReady, resellingClient } from '../support/reselling';
import { stack } from '../support/stack';

const b = consoleBrowser();

describe('reselling', () => {
  it('a reselling client whose agency is not ready is told so (409, what to do next)', async () => {
    const agency = await newAgency();
    const client = await resellingClient(agency.token);
    const page = await b.signedIn(client);
    await expectText(page.getByTestId('wallet-balance'), '0 credits available');
    await expectText(page.getByRole('alert'), /agency must connect Stripe (\(again\) )?and set its prices/);
  });

  it('connects Stripe through its onboarding, sets pricing (the minimum shown and enforced), watches the credit dashboard', async () => {
    const agency = await newAgency();
    const client = await resellingClient(agency.token);
    const page = await b.signedIn(agency);
    await page.getByRole('link', { name: 'Reselling' }).click();
    await expectText(page.getByTestId('stripe-status'), /^Not connected/);
    await expectAccessible(page, 'reselling');
    await page.getByRole('button', { name: 'Connect Stripe' }).click();
    await page.getByRole('button', { name: 'Complete onboarding' }).click();
    await page.waitForURL(`${stack.apiUrl}/reselling/stripe/return`);
    await waitFor(async () => {
      await page.reload();
      return /ready to take payments/.test(await textOf(page.getByTestId('stripe-status')));
    });

    const settings = (await api('GET', '/v1/reselling/settings', { token: agency.token })).body;
    const minimum: string = settings.platform.minimumCreditPrice.usd;
    const price = page.getByLabel(/^Price per credit/);
    expect(await textOf(page.locator('.field', { has: price }).locator('.hint'))).toContain(`Platform minimum: ${minimum} cents`);
    await price.fill('0.0001');
    await page.getByRole('button', { name: 'Save pricing' }).click();
    await expectText(
      page.locator('.field', { has: price }).locator('.field-error'),
      `Below the minimum of ${minimum} per credit`,
    );
    await price.fill('15');
    await page.getByRole('button', { name: 'Add package' }).click();
    await page.getByLabel('Package name').fill('Starter Pack');
    await page.getByLabel('Credits', { exact: true }).fill('100');
    await page.getByLabel('Price (USD)').fill('15.00');
    await page.getByRole('button', { name: 'Save pricing' }).click();
    await expectText(page.getByText('Pricing saved.'), 'Pricing saved.');
    await expectText(page.getByRole('row', { name: new RegExp(client.name) }), /0\s+\$0\.00\s+0\s+0$/);
    const pricing = (await api('GET', '/v1/reselling/settings', { token: agency.token })).body.pricing;
    expect(pricing).toMatchObject({ perCreditPrice: '15', packages: [{ name: 'Starter Pack', credits: 100, price: 1500 }] });
  });

  it('the client buys credits: one purchase however often it clicks, through checkout, into its wallet', async () => {
    const agency = await newAgency();
    await makeReady(agency);
    const client = await resellingClient(agency.token);
    const page = await b.signedIn(agency, '/reselling');
    const clientPage = await b.signedIn(client);
    await clientPage.getByLabel(/^Starter Pack/).check();
    await clientPage.getByRole('button', { name: 'Buy credits' }).dblclick();
    await clientPage.getByRole('button', { name: 'Pay', exact: true }).click();
    await clientPage.waitForURL(/\/credits\/purchases\/\w+\?checkout=success/);
    await expectText(clientPage.getByRole('heading', { level: 1 }), 'Thank you for your purchase');
    const purchases = await api('GET', `/v1/accounts/${client.subAccountId}/credit-purchases`, { token: agency.token });
    expect(purchases.body.items).toHaveLength(1);
    await clientPage.getByRole('link', { name: 'Back to the dashboard' }).click();
    await waitFor(async () => {
      await clientPage.reload();
      return (await textOf(clientPage.getByTestId('wallet-balance'))) === '100 credits available';
    });
    await expectAccessible(clientPage, "a reselling client's dashboard");
    await screenshot(clientPage, 'client-wallet');

    await page.reload();
    await expectText(page.getByRole('row', { name: new RegExp(client.name) }), /^\S+\s+100\s+\$15\.00\s+0\s+100$/);
    await screenshot(page, 'credit-dashboard');
  });
});
