// @vitest-environment happy-dom
// @vitest-environment-options {"settings": {"fetch": {"disableSameOriginPolicy": true}}}
/**
 * The campaign editor against the real API: only the fields changed are sent (a PATCH replaces
 * each field it names whole); JSON that is not an object, and a FAQ without its answer, are
 * refused under their field with nothing sent; an empty FAQ row is left out; nothing changed
 * says so; and the API's `faqs.<i>` refusal lands on the row that was sent as i, after a row
 * above it was removed.
 */
import { cleanup, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import { api, createSubAccount, signUpAgency } from '../support/api';
import { expectStatus } from '../support/ledger';
import { pointConsoleAtStack, renderSignedIn } from './render';

const sent = pointConsoleAtStack();
const { CampaignEditor } = await import('../../packages/console/src/features/campaigns/campaign-editor');

afterEach(() => {
  cleanup();
  sent.length = 0;
});

const FAQS = [
  { question: 'Opening hours?', answer: '9 to 5' },
  { question: 'Parking?', answer: 'Behind the building' },
];

async function openEditor() {
  const agency = await signUpAgency('agency');
  const { subAccountId } = await createSubAccount(agency.token);
  const made = await api('POST', `/v1/accounts/${subAccountId}/campaigns`, {
    token: agency.token,
    body: { name: 'Spring recall', instructions: 'Be brief.', faqs: FAQS, settings: { tone: 'warm' } },
  });
  const campaign = expectStatus(made, 201, 'campaign').body.campaign;
  let saved = 0;
  sent.length = 0; // what the set-up sent is not the form's
  await renderSignedIn(
    <CampaignEditor campaign={campaign} back="/" onSaved={() => saved++} onCancel={() => {}} onReload={() => {}} />,
    agency.token,
    { accountId: agency.agencyId, accountType: 'agency' },
  );
  const stored = async () =>
    (await api('GET', `/v1/accounts/${subAccountId}/campaigns/${campaign.id}`, { token: agency.token })).body.campaign;
  return { saved: () => saved, stored };
}

const patches = () => sent.filter((r) => r.method === 'PATCH').map((r) => r.body);
const save = (user: ReturnType<typeof userEvent.setup>) => user.click(screen.getByRole('button', { name: 'Save changes' }));

describe('the campaign editor', () => {
  it('sends only what changed, and says so when nothing did', async () => {
    const { saved, stored } = await openEditor();
    const user = userEvent.setup();
    await save(user);
    expect(screen.getByRole('status').textContent).toMatch(/Nothing has changed yet/);
    expect(patches()).toEqual([]);

    await user.type(screen.getByLabelText('Instructions for the AI agent'), ' Always offer a slot.');
    await save(user);
    await waitFor(() => expect(saved()).toBe(1));
    expect(patches()).toEqual([{ instructions: 'Be brief. Always offer a slot.' }]);
    expect(await stored()).toMatchObject({ name: 'Spring recall', faqs: FAQS, settings: { tone: 'warm' } });
  });

  it('refuses JSON that is not an object and a FAQ without its answer under their fields, sending nothing', async () => {
    await openEditor();
    const user = userEvent.setup();
    const settings = screen.getByLabelText('Settings');
    await user.clear(settings);
    await user.click(settings);
    await user.paste('["a list"]');
    await user.click(screen.getByRole('button', { name: 'Add FAQ' }));
    await user.type(screen.getByLabelText('Question 3'), 'Wheelchair access?');
    await user.click(screen.getByRole('button', { name: 'Add FAQ' })); // left empty: left out, not refused
    await save(user);
    expect(errorOf(screen.getByLabelText('Settings'))).toMatch(/JSON object/);
    expect(errorOf(screen.getByLabelText('Answer 3'))).toBe('Enter the answer');
    expect(errorOf(screen.getByLabelText('Question 4'))).toBeUndefined();
    expect(patches()).toEqual([]);
  });

  it("puts the API's refusal of a FAQ on the row that was sent, after a row above it was removed", async () => {
    const { saved } = await openEditor();
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Remove FAQ 1' }));
    const answer = screen.getByLabelText('Answer 1'); // was row 2
    await user.clear(answer);
    await user.click(answer);
    await user.paste('x'.repeat(5001));
    await save(user);
    await waitFor(() => expect(errorOf(screen.getByLabelText('Answer 1'))).toMatch(/5000/));
    expect(patches()).toEqual([{ faqs: [{ question: 'Parking?', answer: 'x'.repeat(5001) }] }]);
    expect(saved()).toBe(0);
  });
});

/** The error text a field points to (aria-describedby), if any. */
function errorOf(field: HTMLElement): string | undefined {
  if (field.getAttribute('aria-invalid') !== 'true') return undefined;
  const id = (field.getAttribute('aria-describedby') ?? '').split(' ')[0] ?? '';
  return document.getElementById(id)?.textContent ?? undefined;
}
