/**
 * The Sub Accounts page in a real browser: adding a client (its password shown once), the list's
 * pages, Edit Sub Account (limit, credit mode, the plan's features), close and reopen, new
 * client credentials, and assist mode.
 */
import { describe, expect, it } from 'vitest';
import { api, type SubAccountFixture, uniq, uniqueEmail, waitFor } from '../support/api';
import { clipboardOf, expectAccessible, expectText, fieldError, screenshot, sessionOf, textOf } from '../support/browser';
import { agencyWithConsole, consoleBrowser, newAgency, withSubAccounts } from '../support/console-browser';
import { expectStatus } from '../support/ledger';

const b = consoleBrowser();

describe('the Sub Accounts page', () => {
  it('adds a sub-account: Add Account → Sign Up → the password popup, copied; a taken email is said next to Email', async () => {
    const { agency, page } = await agencyWithConsole(b);
    const client = { name: uniq('Bloom'), email: uniqueEmail('bloom') };
    await page.getByRole('link', { name: 'Sub Accounts' }).click();
    await expectAccessible(page, 'sub accounts (empty)');
    await page.getByRole('button', { name: 'Add Account' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add Account' });
    await dialog.getByLabel('Name', { exact: true }).fill(client.name);
    await dialog.getByLabel('Email', { exact: true }).fill(client.email);
    await expectAccessible(page, 'add account dialog');
    await dialog.getByRole('button', { name: 'Sign Up' }).click();

    const popup = page.getByRole('dialog', { name: 'Sub-account created' });
    const password = popup.getByLabel('Client password');
    await password.waitFor();
    const shown = await password.inputValue();
    expect(shown.length).toBeGreaterThanOrEqual(16);
    await popup.getByRole('button', { name: 'Copy password' }).click();
    await expectText(popup.getByRole('status'), 'Password copied.');
    expect(await clipboardOf(page)).toBe(shown);
    await expectAccessible(page, 'password popup');
    await screenshot(page, 'password-popup');
    await popup.getByRole('button', { name: 'Done' }).click();
    expect(
      (await api('GET', '/v1/sub-accounts', { token: agency.token })).body.items.map((i: { name: string }) => i.name),
    ).toEqual([client.name]);
    expect((await api('POST', '/v1/auth/login', { body: { email: client.email, password: shown } })).status).toBe(200);

    await page.getByRole('button', { name: 'Add Account' }).click();
    await dialog.getByLabel('Name', { exact: true }).fill('Someone else');
    await dialog.getByLabel('Email', { exact: true }).fill(client.email);
    await dialog.getByRole('button', { name: 'Sign Up' }).click();
    expect(await fieldError(page, 'Email')).toBe('This email is already registered.');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
  });

  it('pages the Sub Accounts list by the API cursor', async () => {
    const agency = await newAgency();
    await Promise.all(
      Array.from({ length: 21 }, async (_, i) => {
        const body = { name: `Filler ${String(i).padStart(2, '0')}`, email: uniqueEmail('filler'), clientLogin: false };
        expectStatus(await api('POST', '/v1/sub-accounts', { token: agency.token, body }), 201, 'sub-account');
      }),
    );
    const page = await b.signedIn(agency);
    await page.getByRole('link', { name: 'Sub Accounts' }).click();
    const rows = page.locator('tbody tr');
    await page
      .getByRole('button', { name: /^Edit Filler/ })
      .first()
      .waitFor();
    expect(await rows.count()).toBe(20);
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByRole('button', { name: 'Previous page', disabled: false }).waitFor();
    await waitFor(async () => (await rows.count()) === 1);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await waitFor(async () => (await rows.count()) === 20);
    await expectAccessible(page, 'sub accounts');
    await screenshot(page, 'sub-accounts');
  });

  it('Edit Sub Account sets the limit and the credit mode', async () => {
    const agency = await newAgency();
    const [a, c] = (await withSubAccounts(agency, 2)) as [SubAccountFixture, SubAccountFixture];
    const page = await b.signedIn(agency, '/sub-accounts');
    await page.getByRole('button', { name: `Edit ${a.name}` }).click();
    const edit = page.getByRole('dialog', { name: 'Edit Sub Account' });
    await edit.getByLabel('Monthly credit limit').fill('400');
    await expectAccessible(page, 'edit sub account');
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.waitFor({ state: 'hidden' });
    const saved = await api('GET', `/v1/sub-accounts/${a.subAccountId}`, { token: agency.token });
    expect(saved.body.subAccount.monthlyCreditLimit).toBe(400);

    await page.getByRole('button', { name: `Edit ${c.name}` }).click();
    await edit.getByLabel(/^Reselling/).check();
    await edit.getByRole('group', { name: 'Auto-recharge' }).waitFor();
    await screenshot(page, 'edit-sub-account');
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.waitFor({ state: 'hidden' });
    await expectText(page.getByRole('row', { name: new RegExp(c.name) }), /reselling/);
    expect((await api('GET', `/v1/sub-accounts/${c.subAccountId}`, { token: agency.token })).body.subAccount.creditMode).toBe(
      'reselling',
    );
  });

  it('on the pro plan, Edit Sub Account offers only the features of the plan', async () => {
    const agency = await newAgency({ plan: 'pro' });
    const [client] = (await withSubAccounts(agency, 1)) as [SubAccountFixture];
    const page = await b.signedIn(agency, '/sub-accounts');
    await page.getByRole('button', { name: `Edit ${client.name}` }).click();
    const edit = page.getByRole('dialog', { name: 'Edit Sub Account' });
    const offered = await edit.getByRole('group', { name: 'Features' }).getByRole('checkbox').count();
    expect(offered).toBe(4);
    expect(await edit.getByLabel('Credit reselling').count()).toBe(0);
    await edit.getByRole('button', { name: 'Cancel' }).click();
  });

  it('closes a sub-account after a confirm: its row says closed and its actions are off', async () => {
    const agency = await newAgency();
    const [client] = (await withSubAccounts(agency, 1)) as [SubAccountFixture];
    const page = await b.signedIn(agency, '/sub-accounts');
    await page.getByRole('button', { name: `Close ${client.name}` }).click();
    const confirm = page.getByRole('dialog', { name: 'Close this sub-account?' });
    await expectAccessible(page, 'close sub-account confirm');
    await confirm.getByRole('button', { name: 'Close account' }).click();
    await confirm.waitFor({ state: 'hidden' });
    const row = page.getByRole('row', { name: new RegExp(`^${client.name}`) });
    await expectText(row.getByRole('cell').nth(3), 'closed');
    expect(await page.getByRole('button', { name: `Edit ${client.name}` }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: `Close ${client.name}` }).isDisabled()).toBe(true);
    const items = (await api('GET', '/v1/sub-accounts', { token: agency.token })).body.items as {
      name: string;
      status: string;
    }[];
    expect(items.find((i) => i.name === client.name)?.status).toBe('closed');
  });

  it('reopens a closed sub-account after a confirm', async () => {
    const agency = await newAgency();
    const [client] = (await withSubAccounts(agency, 1)) as [SubAccountFixture];
    expectStatus(await api('DELETE', `/v1/sub-accounts/${client.subAccountId}`, { token: agency.token }), 204, 'close');
    const page = await b.signedIn(agency, '/sub-accounts');
    await page.getByRole('button', { name: `Reopen ${client.name}` }).click();
    const confirm = page.getByRole('dialog', { name: 'Reopen this sub-account?' });
    await expectAccessible(page, 'reopen sub-account confirm');
    await confirm.getByRole('button', { name: 'Reopen account' }).click();
    await confirm.waitFor({ state: 'hidden' });
    const row = page.getByRole('row', { name: new RegExp(`^${client.name}`) });
    await expectText(row.getByRole('cell').nth(3), 'active');
    expect((await api('GET', `/v1/sub-accounts/${client.subAccountId}`, { token: agency.token })).body.subAccount.status).toBe(
      'active',
    );
  });

  it("re-issues a client's credentials: the new password shown once, copied; the old one refused", async () => {
    const agency = await newAgency();
    const [client] = (await withSubAccounts(agency, 1)) as [SubAccountFixture];
    const page = await b.signedIn(agency, '/sub-accounts');
    await page.getByRole('button', { name: `New password for ${client.name}` }).click();
    const dialog = page.getByRole('dialog', { name: 'New client password' });
    await dialog.getByRole('button', { name: 'Make a new password' }).click();
    const fresh = await dialog.getByLabel('Client password').inputValue();
    expect(fresh.length).toBeGreaterThanOrEqual(16);
    expect(fresh).not.toBe(client.password);
    await dialog.getByRole('button', { name: 'Copy password' }).click();
    await expectText(dialog.getByRole('status'), 'Copied.');
    expect(await clipboardOf(page)).toBe(fresh);
    await expectAccessible(page, 'new client password');
    await dialog.getByRole('button', { name: 'Done' }).click();
    const old = await api('POST', '/v1/auth/login', { body: { email: client.email, password: client.password } });
    expect(old.status).toBe(401);
    expect((await api('POST', '/v1/auth/login', { body: { email: client.email, password: fresh } })).status).toBe(200);
  });

  it('assists a client under a banner naming it, then Return to Agency ends the assist token', async () => {
    const agency = await newAgency();
    const [client] = (await withSubAccounts(agency, 1)) as [SubAccountFixture];
    const page = await b.signedIn(agency, '/sub-accounts');
    await page.getByRole('button', { name: `Assist ${client.name}` }).click();
    const banner = page.getByRole('region', { name: 'Assist mode' });
    expect(await textOf(banner)).toContain(`You are assisting ${client.name}`);
    await expectText(page.getByRole('heading', { level: 1 }), client.name);
    expect(await page.getByRole('link', { name: 'Sub Accounts' }).count()).toBe(0);
    // biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator.innerText (the text a person sees), not the DOM property
    expect(await page.locator('body').innerText()).not.toContain('Credit balance');
    await expectAccessible(page, 'assist');
    await screenshot(page, 'assist');
    const assistToken = (await sessionOf(page)).assist?.token as string;
    expect((await api('GET', '/v1/me', { token: assistToken })).status).toBe(200);
    await banner.getByRole('button', { name: 'Return to Agency' }).click();
    await page.waitForURL('**/sub-accounts');
    // The URL changes as the navigation starts; the banner leaves with the render that follows.
    await banner.waitFor({ state: 'detached' });
    expect((await api('GET', '/v1/me', { token: assistToken })).status).toBe(401);
  });
});
