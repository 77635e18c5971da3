/**
 * The records an agency reads back in a real browser: the transaction history and the audit
 * log, each filtered (the audit log through its query string) and exported as CSV.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { api, type SubAccountFixture, waitFor } from '../support/api';
import { expectAccessible, expectText, fieldError, screenshot, textOf } from '../support/browser';
import { consoleBrowser, newAgency, withSubAccounts } from '../support/console-browser';
import { chargeUsage, expectStatus } from '../support/ledger';

const b = consoleBrowser();

describe('history', () => {
  it('reads the transaction history with its filters and exports the CSV', async () => {
    const agency = await newAgency({ pool: 1000 });
    const [client] = (await withSubAccounts(agency, 1)) as [SubAccountFixture];
    expectStatus(await chargeUsage(client.subAccountId, { type: 'campaign_message', quantity: 50 }), 201, 'usage');
    const page = await b.signedIn(agency);
    await page.getByRole('link', { name: 'Transactions' }).click();
    // Exact names: a cell's name is matched as a substring otherwise, and the sub-account's
    // random name (`client-50a1…`) once matched '-50' too.
    await page.getByRole('cell', { name: '+1,000', exact: true }).waitFor();
    expect(await page.getByRole('cell', { name: '-50', exact: true }).count()).toBe(1);
    await page.getByLabel('Type').selectOption({ label: 'campaign message' });
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await waitFor(async () => (await page.getByRole('cell', { name: '+1,000', exact: true }).count()) === 0);
    expect(await page.locator('tbody tr').count()).toBe(1);
    expect(await textOf(page.locator('tbody tr'))).toContain(client.name);
    await expectAccessible(page, 'transactions');
    await screenshot(page, 'transactions');

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const csv = readFileSync((await (await download).path()) as string, 'utf8');
    const lines = csv.trim().split(/\r?\n/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('campaign_message');
    expect(csv).not.toContain('top_up');
  });

  it('reads the audit log: what was done and who did it, filtered through the query string, a refusal by its field, the CSV', async () => {
    const agency = await newAgency();
    expectStatus(await api('POST', '/v1/api-keys', { token: agency.token, body: { name: 'billing server' } }), 201, 'API key');
    const [client] = (await withSubAccounts(agency, 1)) as [SubAccountFixture];
    const page = await b.signedIn(agency);
    await page.getByRole('link', { name: 'Audit Log' }).click();
    const table = page.getByRole('table', { name: 'Audit records, newest first' });
    await table.locator('tbody tr').first().waitFor();
    await page.getByLabel('Action', { exact: true }).fill('api_key.created');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/\/audit-log\?action=api_key\.created$/);
    await expectText(
      table.locator('tbody tr'),
      /^\S+ \S+\s+you\s+api_key\.created\s+api key key_\w+\s+name: — → billing server$/,
    );
    expect(await table.locator('tbody tr').count()).toBe(1);
    await expectAccessible(page, 'audit log');

    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download CSV' }).click();
    const lines = readFileSync((await (await download).path()) as string, 'utf8')
      .trim()
      .split(/\r?\n/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('"api_key.created"');

    // A filtered view opened from its address: the filters fill the form; the sub-account made, by you.
    await page.goto(`/audit-log?target=${client.subAccountId}&action=sub_account.created`);
    expect(await page.getByLabel('Target', { exact: true }).inputValue()).toBe(client.subAccountId);
    const created = table.locator('tbody tr');
    await expectText(created, new RegExp(`^\\S+ \\S+\\s+you\\s+sub_account\\.created\\s+sub account ${client.name}\\s`));
    expect(await textOf(created)).toContain(`name: — → ${client.name}`);
    expect(await created.count()).toBe(1);

    // From after To: said next to From, as the API names it.
    await page.getByLabel('From', { exact: true }).fill('2030-01-02');
    await page.getByLabel('To', { exact: true }).fill('2030-01-01');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    expect(await fieldError(page, 'From')).toBe('Must not be after to');
    await expectAccessible(page, 'audit log filter refused');
  });
});
