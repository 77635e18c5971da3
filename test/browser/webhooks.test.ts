/**
 * Event webhooks in a real browser: adding an endpoint (refusals by their fields, the secret
 * shown once), its delivery log (a signed test, a real event), a rotation, a 410 that turns it
 * off, Retry, and deleting it. The agency's CRM is a receiver on 127.0.0.1.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { type AgencyFixture, api, waitFor } from '../support/api';
import { clipboardOf, expectAccessible, expectText, fieldError, textOf } from '../support/browser';
import { agencyWithConsole, consoleBrowser, newAgency } from '../support/console-browser';
import { createSubAccountOnly, expectStatus } from '../support/ledger';
import { type Hit, receiverPerTest, verify } from '../support/webhook-receiver';

const b = consoleBrowser();

// The agency's CRM receiving events: on 127.0.0.1 only (each test starts its own).
const { start: startCrm, replies } = receiverPerTest();

/** An agency with one endpoint (sub_account.updated, made through the API) to its CRM, the console on Event Webhooks. */
async function agencyWithEndpoint() {
  const agency = await newAgency();
  const crm = await startCrm();
  const body = { url: crm.url, events: ['sub_account.updated'] };
  const made = expectStatus(await api('POST', '/v1/webhook-endpoints', { token: agency.token, body }), 201, 'endpoint');
  const page = await b.signedIn(agency, '/event-webhooks');
  const row = page.getByRole('row').filter({ hasText: crm.url });
  await expectText(row, /Sub-account updated\s+Enabled/);
  return { agency, page, crm, row, secret: made.body.secret as string, endpointId: made.body.endpoint.id as string };
}

/** The endpoint's delivery log, opened from its row. */
async function deliveriesOf(page: Page, url: string) {
  await page.getByRole('button', { name: `Deliveries of ${url}` }).click();
  const section = page.getByRole('region', { name: `Deliveries to ${url}` });
  return { section, log: section.getByRole('table', { name: 'Delivery log' }) };
}

const endpointsOf = async (agency: AgencyFixture) =>
  (await api('GET', '/v1/webhook-endpoints', { token: agency.token })).body.items;

describe('event webhooks', () => {
  it('adds an endpoint: refusals next to their fields, the secret shown once and copied', async () => {
    const { agency, page } = await agencyWithConsole(b);
    const crm = await startCrm();
    await page.getByRole('link', { name: 'Event Webhooks' }).click();
    await page.getByText('No endpoints yet: click Add endpoint.').waitFor();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const add = page.getByRole('dialog', { name: 'Add endpoint' });
    // No event type: said under the types. Then a private address: said under the URL, nothing saved.
    await add.getByLabel('Endpoint URL').fill('https://10.0.0.1/hook');
    await add.getByRole('button', { name: 'Add endpoint' }).click();
    await expectText(add.locator('#events-error'), 'Choose at least one');
    await add.getByLabel(/^Sub-account updated/).check();
    await add.getByRole('button', { name: 'Add endpoint' }).click();
    expect(await fieldError(page, 'Endpoint URL')).toMatch(/^This address is on a private or internal network/);
    expect(await add.getByLabel('Endpoint URL').getAttribute('aria-invalid')).toBe('true');
    await expectAccessible(page, 'add endpoint refused');
    expect(await endpointsOf(agency)).toEqual([]);

    await add.getByLabel('Endpoint URL').fill(crm.url);
    await add.getByRole('button', { name: 'Add endpoint' }).click();
    const added = page.getByRole('dialog', { name: 'Endpoint added' });
    const secret = await added.getByLabel('Signing secret', { exact: true }).inputValue();
    expect(secret).toMatch(/^whsec_/);
    expect(await textOf(added)).toContain("Copy it now: you won't see it again.");
    await added.getByRole('button', { name: 'Copy secret' }).click();
    await expectText(added.getByRole('status').filter({ hasText: 'Copied' }), 'Copied.');
    expect(await clipboardOf(page)).toBe(secret);
    await expectAccessible(page, 'endpoint added, its secret');
    await added.getByRole('button', { name: 'Done' }).click();
    const row = page.getByRole('row').filter({ hasText: crm.url });
    await expectText(row, /Sub-account updated\s+Enabled/);
    // Shown once: a reload lists the endpoint, never its secret.
    await page.reload();
    await expectText(row, /Enabled/);
    expect(await page.getByLabel('Signing secret', { exact: true }).count()).toBe(0);
    // The secret shown is the one that signs.
    const [endpoint] = await endpointsOf(agency);
    expectStatus(await api('POST', `/v1/webhook-endpoints/${endpoint.id}/test`, { token: agency.token }), 202, 'test');
    expect(verify(await waitFor(async () => crm.hits.at(0)), secret)).toMatchObject({ type: 'webhook.test' });
  });

  it('its delivery log: a signed test, then a real event, each delivered', async () => {
    const { agency, page, crm, secret, endpointId } = await agencyWithEndpoint();
    const sub = await createSubAccountOnly(agency.token);
    const { section, log } = await deliveriesOf(page, crm.url);
    await section.getByText('Nothing sent yet.', { exact: false }).waitFor();
    // Send test: the CRM gets a POST the standardwebhooks library verifies; the endpoint's log shows it delivered.
    await section.getByRole('button', { name: 'Send test' }).click();
    expect(verify(await waitFor(async () => crm.hits.at(0)), secret)).toMatchObject({ type: 'webhook.test' });
    await expectText(log.locator('tbody tr').first(), /^\S+ \S+\s+Test\s+succeeded\s+1\s+HTTP 200/);
    // A real event: a sub-account changed through the API reaches the CRM, and its log.
    const changed = await api('PATCH', `/v1/sub-accounts/${sub}`, { token: agency.token, body: { monthlyCreditLimit: 777_777 } });
    expect(changed.status).toBe(200);
    const event = verify(await waitFor(async () => crm.hits.at(1), 20_000, 'the sub_account.updated event'), secret);
    expect(event).toMatchObject({ type: 'sub_account.updated', data: { subAccount: { id: sub } } });
    await waitFor(async () => {
      const deliveries = await api('GET', `/v1/webhook-endpoints/${endpointId}/deliveries`, { token: agency.token });
      return deliveries.body.items[0]?.eventType === 'sub_account.updated' && deliveries.body.items[0].status === 'succeeded';
    });
    await section.getByRole('button', { name: 'Refresh deliveries' }).click();
    await expectText(log.locator('tbody tr').first(), /Sub-account updated\s+succeeded\s+1\s+HTTP 200/);
    await expectAccessible(page, 'event webhook deliveries');
  });

  it('rotates the secret after a confirm; a 410 turns the endpoint off, Edit turns it on, Retry signs with both secrets', async () => {
    const { page, crm, row, secret } = await agencyWithEndpoint();
    const { section, log } = await deliveriesOf(page, crm.url);
    // Rotate, after a confirm: the new secret shown once; for 24 h both sign.
    await row.getByRole('button', { name: `Rotate secret of ${crm.url}` }).click();
    const rotation = page.getByRole('dialog', { name: 'Rotate the signing secret?' });
    await rotation.getByRole('button', { name: 'Rotate secret' }).click();
    const rotated = await rotation.getByLabel('Signing secret', { exact: true }).inputValue();
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    expect(await textOf(rotation)).toContain("you won't see it again");
    await expectAccessible(page, 'rotated secret');
    await rotation.getByRole('button', { name: 'Done' }).click();

    // The CRM answers 410 Gone: the endpoint turns off, its row says why; Edit turns it on; Retry delivers the test.
    replies.status = 410;
    await section.getByRole('button', { name: 'Send test' }).click();
    await expectText(row, /Disabled: the endpoint answered 410 Gone/);
    const gone = log.locator('tbody tr').first();
    await expectText(gone, /Test\s+failed\s+1\s+HTTP 410/);
    replies.status = 200;
    await row.getByRole('button', { name: `Edit ${crm.url}` }).click();
    const edit = page.getByRole('dialog', { name: 'Edit endpoint' });
    expect(await edit.getByLabel('Endpoint URL').inputValue()).toBe(crm.url);
    expect(await edit.getByLabel(/^Sub-account updated/).isChecked()).toBe(true);
    await edit.getByLabel(/^Enabled/).check();
    await edit.getByLabel(/^Sub-account closed/).check();
    await expectAccessible(page, 'edit endpoint');
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.waitFor({ state: 'hidden' });
    await expectText(row, /Sub-account updated, Sub-account closed\s+Enabled/);
    const before = crm.hits.length;
    await gone.getByRole('button', { name: /^Retry the Test delivery/ }).click();
    await expectText(gone, /Test\s+succeeded\s+2\s+HTTP 200/);
    const retried = crm.hits[before] as Hit;
    expect(verify(retried, rotated)).toMatchObject({ type: 'webhook.test' });
    expect(verify(retried, secret)).toMatchObject({ type: 'webhook.test' });
  });

  it('deletes an endpoint after a confirm (Cancel keeps it)', async () => {
    const { agency, page, crm, row } = await agencyWithEndpoint();
    const { section } = await deliveriesOf(page, crm.url);
    await row.getByRole('button', { name: `Delete ${crm.url}` }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete this endpoint?' });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'hidden' });
    expect(await endpointsOf(agency)).toHaveLength(1);
    await row.getByRole('button', { name: `Delete ${crm.url}` }).click();
    await expectAccessible(page, 'delete endpoint confirm');
    await confirm.getByRole('button', { name: 'Delete endpoint' }).click();
    await page.getByText('No endpoints yet: click Add endpoint.').waitFor();
    expect(await section.count()).toBe(0);
    expect(await endpointsOf(agency)).toEqual([]);
  });
});
