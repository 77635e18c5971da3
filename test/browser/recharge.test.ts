/**
 * Auto-recharge in a real browser: the agency's webhook (saved, its secret shown once, tested,
 * rotated, a failed delivery retried, deleted), a reselling client's auto-recharge settings, and
 * a recharge request it triggers, fulfilled by hand.
 */
import { describe, expect, it } from 'vitest';
import { type AgencyFixture, api, createSubAccount, type SubAccountFixture, waitFor } from '../support/api';
import { clipboardOf, expectAccessible, expectText, fieldError, screenshot } from '../support/browser';
import { agencyWithConsole, consoleBrowser, newAgency } from '../support/console-browser';
import { expectStatus, patchSub } from '../support/ledger';
import { debit, grantWith, requestsOf, saveEndpoint } from '../support/recharge';
import { type Hit, receiverPerTest, verify } from '../support/webhook-receiver';

const b = consoleBrowser();

// The agency's payment server: on 127.0.0.1 only (each test starts its own).
const { start: paymentServer, replies } = receiverPerTest();

/** An Agency-plan agency with a 1,000-credit pool, its webhook saved, and a reselling client holding 100 credits. */
async function agencyWithWebhook(
  path: string,
  before: (setup: { agency: AgencyFixture; client: SubAccountFixture }) => Promise<void> = async () => {},
) {
  const agency = await newAgency({ pool: 1000 });
  const receiver = await paymentServer();
  const { secret } = (await saveEndpoint(agency.token, receiver.url)).body as { secret: string };
  const client = await createSubAccount(agency.token);
  expectStatus(await patchSub(agency.token, client.subAccountId, { creditMode: 'reselling' }), 200, 'reselling');
  expectStatus(await grantWith(agency.token, client.subAccountId, 100), 201, 'grant');
  await before({ agency, client });
  return { agency, receiver, secret, client, page: await b.signedIn(agency, path) };
}

describe('auto-recharge', () => {
  it('saves the auto-recharge webhook (a private address refused in words), its secret shown once, a signed test, a failed delivery retried', async () => {
    const { page } = await agencyWithConsole(b, { path: '/reselling' });
    const receiver = await paymentServer();
    const section = page.getByRole('region', { name: 'Auto-Recharge Webhook' });
    const url = section.getByLabel('Webhook URL');
    // Checked as written (a literal address, no DNS, no connection): refused before anything is saved.
    await url.fill('https://10.0.0.1/hook');
    await section.getByRole('button', { name: 'Save webhook' }).click();
    expect(await fieldError(page, 'Webhook URL')).toMatch(/^This address is on a private or internal network/);
    expect(await url.getAttribute('aria-invalid')).toBe('true');
    await expectAccessible(page, 'webhook URL refused');

    await url.fill(receiver.url);
    await section.getByRole('button', { name: 'Save webhook' }).click();
    const shown = section.getByLabel(/^Signing secret/);
    const secret = await shown.inputValue({ timeout: 10_000 });
    expect(secret).toMatch(/^whsec_/);
    await section.getByRole('button', { name: 'Copy secret' }).click();
    await expectText(section.getByRole('status').filter({ hasText: 'Copied' }), 'Copied.');
    expect(await clipboardOf(page)).toBe(secret);
    // Shown once: a reload reads the endpoint, never its secret.
    await page.reload();
    expect(await section.getByLabel('Webhook URL').inputValue()).toBe(receiver.url);
    expect(await shown.count()).toBe(0);

    // Send test: the receiver gets a POST the standardwebhooks library verifies; the log shows it delivered.
    await section.getByRole('button', { name: 'Send test' }).click();
    const hit = await waitFor(async () => receiver.hits.at(0));
    expect(verify(hit, secret)).toMatchObject({ type: 'webhook.test' });
    const log = section.getByRole('table', { name: 'Delivery log' });
    await expectText(log.locator('tbody tr').first(), /^\S+ \S+\s+Test\s+succeeded\s+1\s+HTTP 200/);
    await expectAccessible(page, 'auto-recharge webhook');

    // Rotate: the new secret shown once; a test the receiver refuses is tried 3 times (the test stack: 1 s apart), then failed.
    await section.getByRole('button', { name: 'Rotate secret' }).click();
    await waitFor(async () => (await shown.count()) === 1 && (await shown.inputValue()) !== secret);
    const rotated = await shown.inputValue();
    expect(rotated).toMatch(/^whsec_/);
    replies.status = 500;
    await section.getByRole('button', { name: 'Send test' }).click();
    const failed = log.locator('tbody tr').first();
    await expectText(failed, /Test\s+failed\s+3\s+HTTP 500/);
    replies.status = 200;
    const before = receiver.hits.length;
    await failed.getByRole('button', { name: /^Retry the test webhook/ }).click();
    await expectText(failed, /Test\s+succeeded\s+4\s+HTTP 200/);
    const retried: Hit = receiver.hits[before] as Hit;
    // The same webhook-id as its failed attempts; signed with the new secret and, for 24 h, the old one too.
    expect(retried.headers['webhook-id']).toBe(receiver.hits[before - 1]?.headers['webhook-id']);
    expect(verify(retried, rotated)).toMatchObject({ type: 'webhook.test' });
    expect(verify(retried, secret)).toMatchObject({ type: 'webhook.test' });
  });

  it('auto-recharge on a reselling client (409 when its mode changed meanwhile); a debit below the threshold shows its request', async () => {
    const { agency, page, receiver, secret, client } = await agencyWithWebhook('/sub-accounts');
    const sub = client.subAccountId;
    const edit = page.getByRole('dialog', { name: 'Edit Sub Account' });
    const group = edit.getByRole('group', { name: 'Auto-recharge' });
    // Someone switches the client to manual while the dialog is open: saving auto-recharge says what to do next.
    await page.getByRole('button', { name: `Edit ${client.name}` }).click();
    await group.getByLabel(/^Ask for a recharge/).check();
    expectStatus(await patchSub(agency.token, sub, { creditMode: 'manual' }), 200, 'to manual');
    await edit.getByRole('button', { name: 'Save' }).click();
    await expectText(
      edit.getByRole('alert'),
      /^This sub-account is no longer in reselling mode.*choose Reselling, then set auto-recharge\.$/s,
    );
    await edit.getByRole('button', { name: 'Cancel' }).click();
    expect((await api('GET', `/v1/sub-accounts/${sub}`, { token: agency.token })).body.subAccount.autoRecharge).toBeNull();

    await page.reload();
    await page.getByRole('button', { name: `Edit ${client.name}` }).click();
    await edit.getByLabel(/^Reselling/).check();
    await group.getByLabel(/^Ask for a recharge/).check();
    await group.getByLabel('Recharge below (credits)').fill('50');
    await group.getByLabel('Credits to add').fill('200');
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.waitFor({ state: 'hidden' });
    const saved = (await api('GET', `/v1/sub-accounts/${sub}`, { token: agency.token })).body.subAccount;
    expect(saved).toMatchObject({ creditMode: 'reselling', autoRecharge: { enabled: true, threshold: 50, credits: 200 } });

    // The wallet holds 100: a debit of 60 leaves 40, below 50. One signed webhook, one request.
    expectStatus(await debit(sub, 60), 201, 'debit');
    const hit = await waitFor(async () => receiver.hits[0]);
    expect(verify(hit, secret)).toMatchObject({
      type: 'credits.recharge_requested',
      data: { subAccount: { id: sub }, balance: 40, threshold: 50, creditsRequested: 200 },
    });
    await page.getByRole('link', { name: 'Reselling' }).click();
    const requests = page.getByRole('table', { name: 'Recharge requests' });
    await expectText(requests.getByRole('row', { name: new RegExp(client.name) }), /open\s+40\s+50\s+200\s+expires/);
    await expectText(
      page.getByRole('table', { name: 'Delivery log' }).locator('tbody tr').first(),
      /Recharge requested\s+succeeded\s+1\s+HTTP 200/,
    );
    await expectAccessible(page, 'recharge requests');
    await page.getByRole('heading', { name: 'Auto-Recharge Webhook' }).evaluate((h) => h.scrollIntoView());
    await screenshot(page, 'recharge-webhook');

    // The agency fulfils it by hand: more than its pool holds is refused (402, nothing moved), then the 200 asked.
    await requests.getByRole('button', { name: `Grant 200 credits to ${client.name}` }).click();
    const grant = page.getByRole('dialog', { name: 'Grant credits' });
    expect(await grant.getByLabel('Credits to grant').inputValue()).toBe('200');
    await grant.getByLabel('Credits to grant').fill('100000');
    await grant.getByRole('button', { name: 'Grant', exact: true }).click();
    await expectText(
      grant.getByRole('alert'),
      /^Your agency pool does not have that many credits\. Buy pool credits or grant fewer/,
    );
    await expectAccessible(page, 'grant refused');
    await grant.getByLabel('Credits to grant').fill('200');
    await grant.getByRole('button', { name: 'Grant', exact: true }).click();
    await grant.waitFor({ state: 'hidden' });
    await expectText(
      requests.getByRole('row', { name: new RegExp(client.name) }),
      /fulfilled\s+40\s+50\s+200\s+fulfilled \S+ \S+$/,
    );
    const wallet = await api('GET', `/v1/accounts/${sub}/wallet`, { token: agency.token });
    expect(wallet.body.balance).toBe(240);
  });

  it('deletes the auto-recharge webhook after a confirm (Cancel keeps it); its requests outlive it', async () => {
    // Auto-recharge on, and a debit below its threshold: one request open before the page loads.
    const { agency, page, client } = await agencyWithWebhook('/reselling', async ({ agency, client }) => {
      const autoRecharge = { enabled: true, threshold: 50, credits: 200 };
      expectStatus(await patchSub(agency.token, client.subAccountId, { autoRecharge }), 200, 'auto-recharge');
      expectStatus(await debit(client.subAccountId, 60), 201, 'debit');
      await waitFor(async () => (await requestsOf(agency.token)).length === 1, 15_000, 'the recharge request');
    });
    const confirm = page.getByRole('dialog', { name: 'Delete the auto-recharge webhook?' });
    await page.getByRole('button', { name: 'Delete webhook' }).click();
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'hidden' });
    expect((await api('GET', '/v1/reselling/auto-recharge-webhook', { token: agency.token })).status).toBe(200);
    await page.getByRole('button', { name: 'Delete webhook' }).click();
    await expectAccessible(page, 'delete webhook confirm');
    await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
    await confirm.waitFor({ state: 'hidden' });
    expect(await page.getByLabel('Webhook URL').inputValue()).toBe('');
    expect(await page.getByRole('button', { name: 'Rotate secret' }).count()).toBe(0);
    expect((await api('GET', '/v1/reselling/auto-recharge-webhook', { token: agency.token })).status).toBe(404);
    // The requests outlive it.
    await expectText(
      page.getByRole('table', { name: 'Recharge requests' }).getByRole('row', { name: new RegExp(client.name) }),
      /open\s+40\s+50\s+200/,
    );
  });
});
