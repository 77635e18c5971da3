/**
 * Signing up through the console, the one browser test that makes its agency through the UI:
 * the refusal next to its field, the verification email offered again (and throttled), adding a
 * client refused until the email is confirmed, the email's link confirming it, and the pool.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api, emailsTo, type SentEmail, setAgency, uniq, uniqueEmail, waitFor } from '../support/api';
import { expectAccessible, expectText, fieldError, sessionOf, textOf } from '../support/browser';
import { consoleBrowser } from '../support/console-browser';
import { stack } from '../support/stack';

const b = consoleBrowser();
const linkIn = (email: SentEmail) => /https?:\/\/\S+\/verify-email\?token=[\w-]+/.exec(email.body.text ?? '')?.[0];

describe('signing up in the console', () => {
  it('signs an agency up (the refusal next to its field), confirms its email from the link, shows the pool', async () => {
    const agency = { name: uniq('Acme'), email: uniqueEmail('owner'), password: 'violet-harbour-lantern-9' };
    const verificationEmails = async () =>
      (await emailsTo(agency.email)).filter((e) => e.subject.startsWith('Confirm your email for'));
    const page = await b.open();
    await page.goto('/');
    await page.waitForURL('**/sign-in');
    await page.getByRole('link', { name: 'Create an agency account' }).click();
    await expectAccessible(page, 'sign up');
    await page.getByLabel('Agency name').fill(agency.name);
    await page.getByLabel('Your name').fill('Ann');
    await page.getByLabel('Email', { exact: true }).fill(agency.email);
    await page.getByLabel('Password', { exact: true }).fill('short-pw');
    await page.getByRole('button', { name: 'Create account' }).click();
    expect(await fieldError(page, 'Password')).toBe('Must be at least 10 characters');
    expect(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Password', { exact: true }).fill(agency.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expectText(page.getByRole('heading', { level: 1 }), 'Agency dashboard');

    // The sign-up notice offers the email again: a second verification email, with a link of its own, arrives.
    await page.getByRole('button', { name: 'Resend the email' }).click();
    const resent = page.getByRole('status').filter({ hasText: 'Done' });
    await expectText(resent, /new confirmation link is on its way/);
    expect(await textOf(resent)).toContain(`on its way to ${agency.email}.`);
    await expectAccessible(page, 'agency dashboard (empty)');
    await waitFor(
      async () => new Set((await verificationEmails()).map(linkIn)).size === 2,
      15_000,
      'a second verification email',
    );

    const { token } = await sessionOf(page);
    const agencyId = (await api('GET', '/v1/me', { token })).body.principal.agencyId;
    await setAgency(agencyId, { plan: 'agency' });

    // Before the owner confirms the email, adding a client is refused, in words that say what to do, with the email offered again.
    await page.getByRole('link', { name: 'Sub Accounts' }).click();
    await page.getByRole('button', { name: 'Add Account' }).click();
    await page.getByLabel('Name', { exact: true }).fill(uniq('Bloom'));
    await page.getByLabel('Email', { exact: true }).fill(uniqueEmail('bloom'));
    await page.getByRole('button', { name: 'Sign Up' }).click();
    const addDialog = page.getByRole('dialog', { name: 'Add Account' });
    await expectText(addDialog.getByRole('alert'), /^Confirm your email address first/);
    await addDialog.getByRole('button', { name: 'Resend the email' }).click();
    await expectText(addDialog.getByRole('status').filter({ hasText: 'Done' }), /new confirmation link is on its way/);
    await waitFor(async () => (await verificationEmails()).length === 3, 15_000, 'a third verification email');
    // Three an hour: one more through the API, then the console's fourth is throttled (429), said in words.
    expect((await api('POST', '/v1/auth/verify-email/resend', { token })).status).toBe(202);
    await addDialog.getByRole('button', { name: 'Resend the email' }).click();
    await expectText(
      addDialog.getByRole('alert').filter({ hasText: 'several links' }),
      /^We have already sent you several links in the last hour.*ask again in \d+ minutes?\.$/,
    );
    await expectAccessible(page, 'add account refused, resend throttled');
    await page.getByRole('button', { name: 'Cancel' }).click();

    // The email's link opens the console's page, which confirms it.
    const link = await waitFor(async () => (await verificationEmails()).map(linkIn).at(-1));
    expect(link.startsWith(`${stack.apiUrl}/verify-email?`)).toBe(true);
    await page.goto(link);
    await expectText(page.getByRole('status'), /Your email is confirmed/);

    const topUp = await api('POST', `/v1/admin/agencies/${agencyId}/credits`, {
      token: stack.platformApiKey,
      headers: { 'idempotency-key': randomUUID() },
      body: { credits: 1000, reference: 'invoice 1' },
    });
    expect(topUp.status).toBe(201);
    await page.goto('/');
    await expectText(page.getByTestId('pool-balance'), '1,000 credits');
  });
});
