/**
 * Campaigns in a real browser: building one and copying it to two clients, the editor (a
 * refusal, a save, a conflict), deleting, and the error boundary a page whose code no longer
 * loads falls into.
 */
import { describe, expect, it } from 'vitest';
import { type AgencyFixture, api, type SubAccountFixture, waitFor } from '../support/api';
import { expectAccessible, expectText, fieldError, screenshot } from '../support/browser';
import { consoleBrowser, newAgency, withSubAccounts } from '../support/console-browser';
import { expectStatus } from '../support/ledger';

const b = consoleBrowser();

/** An agency and a campaign of its own, made through the API. */
async function agencyWithCampaign(body: Record<string, unknown> = { name: 'Spring template', instructions: 'Greet warmly.' }) {
  const agency = await newAgency();
  const made = expectStatus(
    await api('POST', `/v1/accounts/${agency.agencyId}/campaigns`, { token: agency.token, body }),
    201,
    'campaign',
  );
  const id: string = made.body.campaign.id;
  return { agency, id, path: `/campaigns/${id}` };
}
const campaignOf = (agency: AgencyFixture, id: string) =>
  api('GET', `/v1/accounts/${agency.agencyId}/campaigns/${id}`, { token: agency.token });

describe('campaigns', () => {
  it('builds a campaign and copies it to two sub-accounts at once', async () => {
    const agency = await newAgency();
    const [a, c] = (await withSubAccounts(agency, 2)) as [SubAccountFixture, SubAccountFixture];
    const page = await b.signedIn(agency);
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await page.getByText('New campaign').click();
    await page.getByLabel('Campaign name').fill('Spring template');
    await page.getByLabel('Instructions for the AI agent').fill('Greet warmly.');
    await page.getByRole('button', { name: 'Create campaign' }).click();
    await page.getByRole('button', { name: 'Copy to Sub-Account: Spring template' }).click();
    const dialog = page.getByRole('dialog', { name: /Copy "Spring template" to Sub-Account/ });
    await dialog.getByLabel(a.name).check();
    await dialog.getByLabel(c.name).check();
    await expectAccessible(page, 'copy to sub-account');
    await screenshot(page, 'copy-to-sub-account');
    await dialog.getByRole('button', { name: 'Copy', exact: true }).click();
    await expectText(dialog.getByRole('status'), `Copied "Spring template" to ${a.name}, ${c.name}.`);
    await dialog.getByRole('button', { name: 'Close' }).click();
    for (const id of [a.subAccountId, c.subAccountId]) {
      const list = await api('GET', `/v1/accounts/${id}/campaigns`, { token: agency.token });
      expect(list.body.items.map((x: { name: string }) => x.name)).toEqual(['Spring template']);
    }
  });

  it('opens a campaign and edits it: a refusal next to its field, the change saved and in the list; a conflict offers Reload', async () => {
    const { agency, id } = await agencyWithCampaign();
    const page = await b.signedIn(agency);
    await page.getByRole('link', { name: 'Campaigns' }).click();
    await page.getByRole('link', { name: 'Spring template', exact: true }).click();
    await expectText(page.getByRole('heading', { level: 1 }), 'Spring template');
    await expectText(page.getByRole('region', { name: 'Instructions for the AI agent' }), /Greet warmly\.$/);
    await expectAccessible(page, 'campaign');
    await screenshot(page, 'campaign');

    await page.getByRole('button', { name: 'Edit campaign' }).click();
    const form = page.getByRole('form', { name: 'Edit campaign' });
    await form.getByLabel('Campaign name').fill('S'.repeat(121));
    await form.getByLabel('Instructions for the AI agent').fill('Greet warmly.\nOffer the spring discount.');
    await form.getByRole('button', { name: 'Add FAQ' }).click();
    await form.getByLabel('Question 1').fill('Is there a discount?');
    await form.getByLabel('Answer 1').fill('Yes: 10% until May.');
    await form.getByLabel('Settings').fill('{"tone": "friendly"}');
    await form.getByRole('button', { name: 'Save changes' }).click();
    expect(await fieldError(page, 'Campaign name')).toBe('Must be at most 120 characters');
    expect(await form.getByLabel('Campaign name').getAttribute('aria-invalid')).toBe('true');
    await expectAccessible(page, 'edit campaign refused');
    await page.evaluate(() => (globalThis as any).scrollTo(0, 0));
    await screenshot(page, 'edit-campaign');
    await form.getByLabel('Campaign name').fill('Spring template v2');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await expectText(page.getByRole('heading', { level: 1 }), 'Spring template v2');
    await expectText(page.getByRole('status'), 'Saved.');
    await expectText(page.getByRole('region', { name: 'FAQs' }), /Is there a discount\?\s+Yes: 10% until May\.$/);
    expect((await campaignOf(agency, id)).body.campaign).toMatchObject({
      name: 'Spring template v2',
      instructions: 'Greet warmly.\nOffer the spring discount.',
      faqs: [{ question: 'Is there a discount?', answer: 'Yes: 10% until May.' }],
      settings: { tone: 'friendly' },
      configuration: {},
    });
    // The list gone back to shows the saved name from its first paint, not the old one until a refetch.
    await page.getByRole('link', { name: 'Back to campaigns' }).click();
    const cards = page.getByRole('list', { name: 'Campaigns' });
    await cards.waitFor();
    expect(await cards.getByRole('heading').allTextContents()).toContain('Spring template v2');
    expect(await cards.getByRole('heading', { name: 'Spring template', exact: true }).count()).toBe(0);

    // The API answers 409 only when the campaign kept changing under its three tries: injected here.
    await page.getByRole('link', { name: 'Spring template v2' }).click();
    await page.getByRole('button', { name: 'Edit campaign' }).click();
    await page.route(`**/v1/accounts/${agency.agencyId}/campaigns/${id}`, (route) =>
      route.request().method() === 'PATCH'
        ? route.fulfill({
            status: 409,
            contentType: 'application/problem+json',
            body: JSON.stringify({ type: 'about:blank', title: 'Conflict', status: 409, code: 'conflict' }),
          })
        : route.continue(),
    );
    await form.getByLabel('Campaign name').fill('Spring template v3');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await expectText(
      form.getByRole('alert'),
      /^Someone else was changing this campaign at the same moment, so your changes were not saved/,
    );
    await expectAccessible(page, 'edit campaign conflict');
    await page.unrouteAll();
    await form.getByRole('button', { name: 'Reload the campaign' }).click();
    await waitFor(async () => (await form.getByLabel('Campaign name').inputValue()) === 'Spring template v2');
    expect(await form.getByRole('alert').count()).toBe(0);
    await form.getByRole('button', { name: 'Cancel' }).click();
    expect((await campaignOf(agency, id)).body.campaign.name).toBe('Spring template v2');
  });

  it('deletes a campaign after a confirm (Cancel keeps it); one deleted elsewhere meanwhile is said to be gone', async () => {
    const { agency, id, path } = await agencyWithCampaign();
    const [client] = (await withSubAccounts(agency, 1)) as [SubAccountFixture];
    const copy = { token: agency.token, body: { targetAccountId: client.subAccountId } };
    expectStatus(await api('POST', `/v1/accounts/${agency.agencyId}/campaigns/${id}/copy`, copy), 201, 'copy');
    const page = await b.signedIn(agency, path);
    const confirm = page.getByRole('dialog', { name: 'Delete this campaign?' });
    await page.getByRole('button', { name: 'Delete campaign' }).click();
    await expectAccessible(page, 'delete campaign confirm');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'hidden' });
    expect((await campaignOf(agency, id)).status).toBe(200);
    await page.getByRole('button', { name: 'Delete campaign' }).click();
    await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.waitForURL((url) => url.pathname === '/campaigns');
    await expectText(page.getByRole('status'), 'Deleted "Spring template".');
    await page.getByText('No campaigns yet.').waitFor();
    expect((await campaignOf(agency, id)).status).toBe(404);
    // Its copies stay.
    const copies = await api('GET', `/v1/accounts/${client.subAccountId}/campaigns`, { token: agency.token });
    expect(copies.body.items.map((c: { name: string }) => c.name)).toEqual(['Spring template']);
    // Its address now says it is gone.
    await page.goto(path);
    await expectText(page.getByRole('heading', { level: 1 }), 'Campaign not found');

    const made = await api('POST', `/v1/accounts/${agency.agencyId}/campaigns`, {
      token: agency.token,
      body: { name: 'Summer offer' },
    });
    expect(made.status).toBe(201);
    await page.goto('/campaigns');
    await page.getByRole('link', { name: 'Summer offer' }).click();
    await page.getByRole('button', { name: 'Delete campaign' }).click();
    const elsewhere = await api('DELETE', `/v1/accounts/${agency.agencyId}/campaigns/${made.body.campaign.id}`, {
      token: agency.token,
    });
    expect(elsewhere.status).toBe(204);
    await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
    await expectText(page.getByRole('status'), '"Summer offer" had already been deleted.');
    await page.getByText('No campaigns yet.').waitFor();
  });

  it('a page whose code no longer loads says what happened, with Reload and a way home, under the navigation', async () => {
    const { agency, path } = await agencyWithCampaign();
    const page = await b.signedIn(agency);
    await expectText(page.getByRole('heading', { level: 1 }), 'Agency dashboard');
    // The campaign page is a lazy chunk of its own: refused here as if a deploy had replaced it.
    const chunk = '**/assets/campaign-page-*.js';
    await page.route(chunk, (route) => route.abort());
    const before = b.errors.length;
    await page.goto(path);
    const main = page.getByRole('main');
    await expectText(main.getByRole('heading', { level: 1 }), 'Something went wrong');
    await expectText(main.getByRole('alert'), /^This page stopped working: .*dynamically imported module/);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Campaigns' }).waitFor();
    await expectAccessible(page, 'page error');
    // The way home leaves the broken page; back on it, its code is still missing until a reload.
    await main.getByRole('link', { name: 'Go to the dashboard' }).click();
    await expectText(page.getByRole('heading', { level: 1 }), 'Agency dashboard');
    await page.goBack();
    await expectText(main.getByRole('heading', { level: 1 }), 'Something went wrong');
    await page.unroute(chunk);
    await main.getByRole('button', { name: 'Reload' }).click();
    await expectText(main.getByRole('heading', { level: 1 }), 'Spring template');
    // The refused chunk and React's report of the error it caught: the only errors this caused.
    const caused = b.errors.splice(before);
    expect(caused.length).toBeGreaterThan(0);
    expect(caused.filter((e) => !/net::ERR_FAILED|dynamically imported module/.test(e))).toEqual([]);
  });
});
