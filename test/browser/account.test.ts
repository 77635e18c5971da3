/**
 * Signing in and what a session may do, in a real browser: a client's own login (never a
 * balance) and its end, the agency owner's password change, and API keys.
 */
import { describe, expect, it } from 'vitest';
import { api, type SubAccountFixture } from '../support/api';
import { expectAccessible, expectText, fieldError, screenshot, sessionOf } from '../support/browser';
import { agencyWithConsole, consoleBrowser, newAgency, withSubAccounts } from '../support/console-browser';
import { chargeUsage, expectStatus } from '../support/ledger';
import { pipelineIdle } from '../support/pipeline';

const b = consoleBrowser();

describe('sign-in and sessions', () => {
  it("a client's own login: its campaigns and usage, never a balance or the Sub Accounts; expiry returns to sign-in", async () => {
    const agency = await newAgency({ pool: 1000 });
    const [mine, other] = (await withSubAccounts(agency, 2)) as [SubAccountFixture, SubAccountFixture];
    expectStatus(await chargeUsage(mine.subAccountId, { type: 'campaign_message', quantity: 50 }), 201, 'usage');
    const campaign = { token: agency.token, body: { name: 'Spring template', instructions: 'Greet warmly.' } };
    expectStatus(await api('POST', `/v1/accounts/${mine.subAccountId}/campaigns`, campaign), 201, 'campaign');
    await pipelineIdle(); // the client's usage is the rollups', built from the stream

    const client = await b.open();
    const paths: string[] = [];
    client.on('request', (r) => paths.push(new URL(r.url()).pathname));
    await client.goto('/sign-in');
    await client.getByLabel('Email', { exact: true }).fill(mine.email);
    await client.getByLabel('Password', { exact: true }).fill(mine.password);
    await client.getByRole('button', { name: 'Log in' }).click();
    await expectText(client.getByTestId('account-usage-total'), '50 credits used');
    await client.getByRole('heading', { name: 'Spring template' }).waitFor();
    // biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator.innerText (the text a person sees), not the DOM property
    const text = await client.locator('body').innerText();
    expect(text).toContain(mine.name);
    for (const hidden of ['Credit balance', 'Sub Accounts', 'Wallet', agency.name, other.name])
      expect(text).not.toContain(hidden);
    expect(await client.getByLabel('Account', { exact: true }).count()).toBe(0);
    expect(await client.getByRole('button', { name: 'Copy to Sub-Account: Spring template' }).count()).toBe(0);
    expect(paths.filter((p) => p.startsWith('/v1/credits') || p.startsWith('/v1/sub-accounts'))).toEqual([]);
    await expectAccessible(client, "a client's dashboard");
    await screenshot(client, 'client-dashboard');

    // The session ends elsewhere (here: its token logged out): the next request lands on sign-in, saying why.
    const { token } = await sessionOf(client);
    expect((await api('POST', '/v1/auth/logout', { token })).status).toBe(204);
    await client.reload();
    await expectText(client.getByRole('status'), 'Your session has ended. Sign in again.');
    expect(new URL(client.url()).pathname).toBe('/sign-in');
    expect(await client.evaluate(() => (globalThis as any).sessionStorage.length as number)).toBe(0);
  });

  it('changes the password: a wrong current one said next to its field; the new session replaces the old', async () => {
    const { agency, page } = await agencyWithConsole(b);
    const oldToken = (await sessionOf(page)).token;
    await page.getByRole('link', { name: 'Change password' }).click();
    await page.getByLabel('Current password').fill('not-my-password-1');
    await page.getByLabel('New password').fill('amber-meadow-compass-7');
    await page.getByRole('button', { name: 'Change password' }).click();
    expect(await fieldError(page, 'Current password')).toBe('This is not your current password');
    expect(await page.getByLabel('Current password').getAttribute('aria-invalid')).toBe('true');
    await expectAccessible(page, 'change password refused');
    await page.getByLabel('Current password').fill(agency.password);
    await page.getByLabel('New password').fill('amber-meadow-compass-7');
    await page.getByRole('button', { name: 'Change password' }).click();
    await expectText(page.getByRole('status'), /^Your password is changed/);
    const newToken = (await sessionOf(page)).token;
    expect(newToken).not.toBe(oldToken);
    expect((await api('GET', '/v1/me', { token: oldToken })).status).toBe(401);
    expect((await api('GET', '/v1/me', { token: newToken })).status).toBe(200);
    // This tab carries on with the new session.
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByTestId('pool-balance').waitFor();
    const login = await api('POST', '/v1/auth/login', { body: { email: agency.email, password: 'amber-meadow-compass-7' } });
    expect(login.status).toBe(200);
  });

  it('creates an API key (shown once) and revokes it', async () => {
    const { page } = await agencyWithConsole(b);
    await page.getByRole('link', { name: 'API Keys' }).click();
    await page.getByLabel('Key name').fill('billing server');
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = await page.getByLabel(/^New key/).inputValue();
    expect(key).toMatch(/^ak_/);
    expect((await api('GET', '/v1/credits/balance', { token: key })).status).toBe(200);
    await expectAccessible(page, 'api keys');
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Revoke billing server' }).click();
    await page.getByText('No API keys.').waitFor();
    expect((await api('GET', '/v1/credits/balance', { token: key })).status).toBe(401);
  });
});
