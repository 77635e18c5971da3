import { describe, expect, it } from 'vitest';
import { api, emailsTo, signUpAgency, uniqueEmail, waitFor } from '../support/api';
import { stack } from '../support/stack';

/** The foundation's user story, over HTTP against the local stack, email included. */
describe('agency flow', () => {
  it('signs up, creates a client, emails its credentials, switches, assists, returns, and closes', async () => {
    const agency = await signUpAgency('pro');
    expect(agency.agencyId).toMatch(/^agc_/);

    // Create a sub-account: the password comes back once.
    const clientEmail = uniqueEmail('client');
    const created = await api('POST', '/v1/sub-accounts', {
      token: agency.token,
      body: { name: 'Client A', email: clientEmail, phone: '+1 555 0100', timezone: 'Europe/Paris' },
    });
    expect(created.status).toBe(201);
    const { subAccount, password } = created.body;
    expect(subAccount).toMatchObject({ name: 'Client A', email: clientEmail, status: 'active', creditMode: 'manual' });
    expect(subAccount.id).toMatch(/^sub_/);
    expect(password).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(JSON.stringify((await api('GET', `/v1/sub-accounts/${subAccount.id}`, { token: agency.token })).body)).not.toContain(
      password,
    );

    // The credential email arrives through stream → queue → notifier → SES.
    const [mail] = await waitFor(async () => {
      const mails = await emailsTo(clientEmail);
      return mails.length ? mails : undefined;
    });
    expect(mail!.body.text).toContain(clientEmail);
    expect(mail!.body.text).toContain(password);
    // The login link is the web console's sign-in page, at the API's origin locally.
    expect(mail!.body.text).toContain(`Log in at: ${stack.apiUrl}/sign-in`);
    const agencyName = (await api('GET', '/v1/me', { token: agency.token })).body.accounts[0].name;
    expect(mail!.subject).toContain(agencyName);

    // The client logs in and sees only its own account.
    const login = await api('POST', '/v1/auth/login', { body: { email: clientEmail, password } });
    expect(login.status).toBe(200);
    expect(login.body.principal).toEqual({
      userId: expect.stringMatching(/^usr_/),
      accountId: subAccount.id,
      accountType: 'sub_account',
    });
    const clientMe = await api('GET', '/v1/me', { token: login.body.token });
    expect(clientMe.body.accounts).toEqual([{ id: subAccount.id, name: 'Client A', type: 'sub_account', status: 'active' }]);

    // The agency's switcher lists itself and every sub-account.
    const second = await api('POST', '/v1/sub-accounts', {
      token: agency.token,
      body: { name: 'Client B', email: uniqueEmail() },
    });
    const agencyMe = await api('GET', '/v1/me', { token: agency.token });
    expect(agencyMe.body.accounts.map((a: { id: string }) => a.id)).toEqual([
      agency.agencyId,
      subAccount.id,
      second.body.subAccount.id,
    ]);

    // Assist: act as the client, then return to the agency; the assist token is then refused.
    const assist = await api('POST', `/v1/sub-accounts/${subAccount.id}/assist`, { token: agency.token });
    expect(assist.status).toBe(201);
    expect(new Date(assist.body.expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(3600_000);
    const asClient = await api('GET', '/v1/me', { token: assist.body.token });
    expect(asClient.status).toBe(200);
    expect(asClient.body.principal).toMatchObject({
      accountId: subAccount.id,
      accountType: 'sub_account',
      actor: { userId: agency.userId },
    });
    expect(asClient.body.accounts).toHaveLength(1);
    expect((await api('POST', '/v1/assist/exit', { token: assist.body.token })).status).toBe(204);
    expect((await api('GET', '/v1/me', { token: assist.body.token })).status).toBe(401);
    expect((await api('GET', '/v1/me', { token: agency.token })).status).toBe(200);

    // API keys: created (shown once), usable, listed without the key, revoked.
    const key = await api('POST', '/v1/api-keys', { token: agency.token, body: { name: 'CI server' } });
    expect(key.status).toBe(201);
    expect(key.body.key).toMatch(/^ak_/);
    expect((await api('GET', '/v1/sub-accounts', { token: key.body.key })).status).toBe(200);
    const keys = await api('GET', '/v1/api-keys', { token: agency.token });
    expect(keys.body.items).toEqual([expect.objectContaining({ id: key.body.id, name: 'CI server' })]);
    expect(keys.text).not.toContain(key.body.key);
    expect((await api('DELETE', `/v1/api-keys/${key.body.id}`, { token: agency.token })).status).toBe(204);
    expect((await api('GET', '/v1/sub-accounts', { token: key.body.key })).status).toBe(401);

    // Password change: the new one works, the old one no longer does; the answer is the only
    // session left (the earlier one ends), and the agency's API keys are not affected.
    const changed = await api('POST', '/v1/auth/password', {
      token: login.body.token,
      body: { currentPassword: password, newPassword: 'a-new-password-123' },
    });
    expect(changed.status).toBe(200);
    expect((await api('POST', '/v1/auth/login', { body: { email: clientEmail, password } })).status).toBe(401);
    const relogin = await api('POST', '/v1/auth/login', { body: { email: clientEmail, password: 'a-new-password-123' } });
    expect(relogin.status).toBe(200);
    expect((await api('GET', '/v1/me', { token: login.body.token })).status).toBe(401);
    expect((await api('GET', '/v1/me', { token: changed.body.token })).status).toBe(200);

    // Close: the client can no longer log in or use its session; the agency still sees it, closed.
    expect((await api('DELETE', `/v1/sub-accounts/${subAccount.id}`, { token: agency.token })).status).toBe(204);
    expect((await api('POST', '/v1/auth/login', { body: { email: clientEmail, password: 'a-new-password-123' } })).status).toBe(
      401,
    );
    expect((await api('GET', '/v1/me', { token: relogin.body.token })).status).toBe(401);
    const closed = await api('GET', `/v1/sub-accounts/${subAccount.id}`, { token: agency.token });
    expect(closed.body.subAccount.status).toBe('closed');
    expect((await api('POST', `/v1/sub-accounts/${subAccount.id}/assist`, { token: agency.token })).status).toBe(409);
  });

  it('answers the same 401 for an unknown email and a wrong password', async () => {
    const agency = await signUpAgency();
    const unknown = await api('POST', '/v1/auth/login', { body: { email: uniqueEmail(), password: 'whatever-123' } });
    const wrong = await api('POST', '/v1/auth/login', { body: { email: agency.email, password: 'wrong-password' } });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
  });

  it('refuses a second signup or sub-account with a taken email (any case)', async () => {
    const agency = await signUpAgency();
    const again = await api('POST', '/v1/agencies', {
      body: { agencyName: 'Other', name: 'X', email: agency.email.toUpperCase(), password: 'an-unlikely-pass-42' },
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('email_taken');
    const sub = await api('POST', '/v1/sub-accounts', { token: agency.token, body: { name: 'Dup', email: agency.email } });
    expect(sub.status).toBe(409);
    expect(sub.body.code).toBe('email_taken');
  });
});
