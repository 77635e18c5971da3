// @vitest-environment happy-dom
// @vitest-environment-options {"settings": {"fetch": {"disableSameOriginPolicy": true}}}
/**
 * Edit Sub Account, the console form with the most rules, against the real API: it offers only
 * the plan's features; it sends a mode only when the mode changed, auto-recharge only in
 * reselling mode and only when touched, an empty limit as "no limit"; a refusal lands under
 * its field and the dialog stays open.
 */
import { cleanup, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import { api, createSubAccount, signUpAgency } from '../support/api';
import { pointConsoleAtStack, renderSignedIn } from './render';

const sent = pointConsoleAtStack();
const { EditSubAccount } = await import('../../packages/console/src/features/sub-accounts/edit-sub-account');

afterEach(() => {
  cleanup();
  sent.length = 0;
});

async function openEditor(plan: 'pro' | 'agency') {
  const agency = await signUpAgency(plan);
  const { subAccountId } = await createSubAccount(agency.token, 'Bloom Dental');
  const sub = (await api('GET', `/v1/sub-accounts/${subAccountId}`, { token: agency.token })).body.subAccount;
  let done = 0;
  sent.length = 0; // what the set-up sent is not the form's
  await renderSignedIn(<EditSubAccount sub={sub} onDone={() => done++} />, agency.token, {
    accountId: agency.agencyId,
    accountType: 'agency',
  });
  return { agency, subAccountId, closed: () => done };
}

const patches = () => sent.filter((r) => r.method === 'PATCH');

describe('Edit Sub Account', () => {
  it("offers only the plan's features and sends no mode when the mode is unchanged", async () => {
    const { agency, subAccountId, closed } = await openEditor('pro');
    // Once GET /v1/me has answered, the Agency-plan features are gone from the list.
    await waitFor(() => expect(screen.queryByLabelText('Credit reselling')).toBeNull());
    expect(screen.queryByLabelText('White label')).toBeNull();
    for (const name of ['Campaigns', 'AI bot', 'API access', 'Usage export']) expect(screen.getByLabelText(name)).toBeTruthy();

    const user = userEvent.setup();
    await user.clear(screen.getByLabelText('Name'));
    await user.type(screen.getByLabelText('Name'), 'Bloom Dental Group');
    expect((screen.getByLabelText('API access') as HTMLInputElement).checked).toBe(true); // a new client has the plan's
    await user.click(screen.getByLabelText('API access'));
    await user.type(screen.getByLabelText('Monthly credit limit'), '250');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(closed()).toBe(1));

    expect(patches().map((r) => r.body)).toEqual([
      { name: 'Bloom Dental Group', features: ['campaigns', 'ai_bot', 'usage_export'], monthlyCreditLimit: 250 },
    ]);
    const after = (await api('GET', `/v1/sub-accounts/${subAccountId}`, { token: agency.token })).body.subAccount;
    expect(after).toMatchObject({ name: 'Bloom Dental Group', creditMode: 'manual', monthlyCreditLimit: 250 });
    expect(after.features).not.toContain('api_access');
  });

  it('sends auto-recharge only in reselling mode and only when touched; an empty limit is no limit', async () => {
    const { agency, subAccountId, closed } = await openEditor('agency');
    await waitFor(() => expect(screen.getByLabelText('Credit reselling')).toBeTruthy());
    expect(screen.queryByRole('group', { name: 'Auto-recharge' })).toBeNull();

    const user = userEvent.setup();
    await user.click(screen.getByLabelText(/^Reselling/));
    expect(screen.getByRole('group', { name: 'Auto-recharge' })).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(closed()).toBe(1));
    const first = patches()[0]?.body as Record<string, unknown>;
    expect(first).toMatchObject({ creditMode: 'reselling', monthlyCreditLimit: null });
    expect(first).not.toHaveProperty('autoRecharge');

    cleanup();
    sent.length = 0;
    const sub = (await api('GET', `/v1/sub-accounts/${subAccountId}`, { token: agency.token })).body.subAccount;
    let done = 0;
    await renderSignedIn(<EditSubAccount sub={sub} onDone={() => done++} />, agency.token, {
      accountId: agency.agencyId,
      accountType: 'agency',
    });
    await user.click(screen.getByLabelText('Ask for a recharge when the wallet runs low'));
    await user.clear(screen.getByLabelText('Recharge below (credits)'));
    await user.type(screen.getByLabelText('Recharge below (credits)'), '40');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(done).toBe(1));
    const second = patches()[0]?.body as Record<string, unknown>;
    expect(second).not.toHaveProperty('creditMode'); // already reselling: a mode is sent only when it changes
    expect(second.autoRecharge).toEqual({ enabled: true, threshold: 40, credits: 500 });
  });

  it('shows a refusal under its field and stays open', async () => {
    const { closed } = await openEditor('pro');
    const user = userEvent.setup();
    await user.clear(screen.getByLabelText('Name'));
    await user.type(screen.getByLabelText('Name'), 'x'.repeat(121));
    await user.click(screen.getByRole('button', { name: 'Save' }));
    const name = screen.getByLabelText('Name');
    await waitFor(() => expect(name.getAttribute('aria-invalid')).toBe('true'));
    const describedBy = name.getAttribute('aria-describedby') ?? '';
    expect(document.getElementById(describedBy.split(' ')[0] ?? '')?.textContent).toMatch(/120/);
    expect(closed()).toBe(0);
  });
});
