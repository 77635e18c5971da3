/**
 * Client logins that are optional, credentials issued or re-issued later, and password reset for
 * every user: end to end over HTTP against the local stack, every email read back from the SES
 * emulator. Expiry is crossed with the test clock header.
 */
import { describe, expect, it } from 'vitest';
import {
  api,
  createSubAccount,
  emailsTo,
  type SentEmail,
  signUpAgency,
  tokenFromEmail,
  uniq,
  uniqueEmail,
  waitFor,
} from '../support/api';
import { pipelineIdle } from '../support/pipeline';
import { itemsMentioning } from '../support/table';

const emailCount = (address: string, n: number) =>
  waitFor(
    async () => {
      const mails = await emailsTo(address);
      return mails.length >= n ? mails : undefined;
    },
    15_000,
    `${n} emails to ${address}`,
  );

const resetLink = (address: string, after = 0) => tokenFromEmail(address, /^Reset your/, after);

describe('client login is optional', () => {
  it('without a login: no user, no password, no email; credentials issued later, re-issued, and each ends the last', async () => {
    const agency = await signUpAgency();
    const agencyName = (await api('GET', '/v1/me', { token: agency.token })).body.accounts[0].name as string;
    const email = uniqueEmail('nologin');
    const created = await api('POST', '/v1/sub-accounts', {
      token: agency.token,
      body: { name: 'Quiet Client', email, clientLogin: false },
    });
    expect(created.status).toBe(201);
    expect(created.body.password).toBeUndefined();
    expect(created.body.subAccount.clientLogin).toBe(false);
    const subId = created.body.subAccount.id as string;
    // The account and the audit record of its creation: no user, no email guard, no outbox email.
    expect((await itemsMentioning(subId)).map((i) => i.kind).sort()).toEqual(['account', 'audit_record']);
    // The agency works in it by switching (and assisting).
    expect((await api('GET', `/v1/accounts/${subId}/campaigns`, { token: agency.token })).status).toBe(200);

    const issued = await api('POST', `/v1/sub-accounts/${subId}/credentials`, { token: agency.token });
    expect(issued.status).toBe(201);
    expect(issued.body).toEqual({ password: expect.stringMatching(/^[A-Za-z0-9]{16}$/), email });
    const [first] = await emailCount(email, 1);
    // The only email ever sent to the client is this one, from its agency, with its own password.
    expect(await emailsTo(email)).toHaveLength(1);
    expect(first!.subject).toContain(agencyName);
    expect(first!.body.text).toContain(issued.body.password);
    expect((await api('GET', `/v1/sub-accounts/${subId}`, { token: agency.token })).body.subAccount.clientLogin).toBe(true);
    const session = await api('POST', '/v1/auth/login', { body: { email, password: issued.body.password } });
    expect(session.status).toBe(200);

    const reissued = await api('POST', `/v1/sub-accounts/${subId}/credentials`, { token: agency.token });
    expect(reissued.status).toBe(201);
    expect(reissued.body.password).not.toBe(issued.body.password);
    expect((await api('GET', '/v1/me', { token: session.body.token })).status).toBe(401);
    expect((await api('POST', '/v1/auth/login', { body: { email, password: issued.body.password } })).status).toBe(401);
    expect((await api('POST', '/v1/auth/login', { body: { email, password: reissued.body.password } })).status).toBe(200);
    const mails = await emailCount(email, 2);
    const second = mails.find((m) => m.body.text?.includes(reissued.body.password)) as SentEmail;
    expect(second.body.text).not.toContain(issued.body.password);
  });

  it("another agency's sub-account is a 404, and nothing is issued", async () => {
    const [a, b] = await Promise.all([signUpAgency(), signUpAgency()]);
    const sub = await createSubAccount(a.token);
    const res = await api('POST', `/v1/sub-accounts/${sub.subAccountId}/credentials`, { token: b.token });
    expect([res.status, res.body.code]).toEqual([404, 'not_found']);
    expect((await api('GET', '/v1/me', { token: sub.token })).status).toBe(200);
    expect((await api('POST', '/v1/auth/login', { body: { email: sub.email, password: sub.password } })).status).toBe(200);
  });

  it('needs a verified agency email, like the first credentials', async () => {
    const agency = await signUpAgency('agency', { verifyEmail: false });
    const res = await api('POST', '/v1/sub-accounts', {
      token: agency.token,
      body: { name: 'Quiet', email: uniqueEmail(), clientLogin: false },
    });
    expect([res.status, res.body.code]).toEqual([403, 'email_not_verified']);
  });
});

describe('password reset', () => {
  it('answers 202 the same for a known and an unknown email; only the known one gets a link, naming who sends it', async () => {
    const agency = await signUpAgency();
    const client = await createSubAccount(agency.token);
    const agencyName = (await api('GET', '/v1/me', { token: agency.token })).body.accounts[0].name as string;
    const unknown = uniqueEmail('unknown');
    const known = await api('POST', '/v1/auth/password-reset', { body: { email: client.email.toUpperCase() } });
    const nobody = await api('POST', '/v1/auth/password-reset', { body: { email: unknown } });
    expect([known.status, known.body]).toEqual([nobody.status, nobody.body]);
    expect(known.status).toBe(202);

    await resetLink(client.email);
    const mail = (await emailsTo(client.email)).find((m) => /^Reset your/.test(m.subject))!;
    expect(mail.subject).toContain(agencyName);
    expect(mail.body.text).toMatch(/\/reset-password\?token=[A-Za-z0-9_-]{43}\b/);
    expect(mail.body.text).not.toContain(client.password);
    // The agency user's own reset names the platform, not a client's agency.
    await api('POST', '/v1/auth/password-reset', { body: { email: agency.email } });
    await resetLink(agency.email);
    expect((await emailsTo(agency.email)).at(-1)!.subject).toBe('Reset your Agency Accounts password');

    await pipelineIdle();
    expect(await emailsTo(unknown)).toEqual([]);
    expect((await itemsMentioning(unknown)).map((i) => i.kind)).toEqual(['throttle']);
  });

  it('confirms once: the new password works, every old session ends; a used or expired token is a 400', async () => {
    const agency = await signUpAgency();
    const client = await createSubAccount(agency.token);
    const second = await api('POST', '/v1/auth/login', { body: { email: client.email, password: client.password } });
    expect((await api('POST', '/v1/auth/password-reset', { body: { email: client.email } })).status).toBe(202);
    const token = await resetLink(client.email);

    const weak = await api('POST', '/v1/auth/password-reset/confirm', { body: { token, newPassword: 'password123' } });
    expect([weak.status, weak.body.errors?.[0]?.field]).toEqual([400, 'newPassword']);
    const newPassword = 'a-reset-password-77';
    expect((await api('POST', '/v1/auth/password-reset/confirm', { body: { token, newPassword } })).status).toBe(204);
    const reused = await api('POST', '/v1/auth/password-reset/confirm', { body: { token, newPassword: 'another-reset-88' } });
    expect([reused.status, reused.body.errors?.[0]?.field]).toEqual([400, 'token']);

    for (const old of [client.token, second.body.token]) expect((await api('GET', '/v1/me', { token: old })).status).toBe(401);
    expect((await api('POST', '/v1/auth/login', { body: { email: client.email, password: client.password } })).status).toBe(401);
    expect((await api('POST', '/v1/auth/login', { body: { email: client.email, password: newPassword } })).status).toBe(200);

    // A second link, used an hour and a second later: expired.
    const before = (await emailsTo(client.email)).filter((m) => /^Reset your/.test(m.subject)).length;
    await api('POST', '/v1/auth/password-reset', { body: { email: client.email } });
    const late = await resetLink(client.email, before);
    const expired = await api('POST', '/v1/auth/password-reset/confirm', {
      body: { token: late, newPassword: 'too-late-password-9' },
      headers: { 'x-test-clock': `+${3600_000 + 1000}` },
    });
    expect([expired.status, expired.body.errors?.[0]?.field]).toEqual([400, 'token']);
    expect((await api('POST', '/v1/auth/login', { body: { email: client.email, password: newPassword } })).status).toBe(200);
  });

  it('a token confirmed twice at once works once: the conditional delete, not the read, decides', async () => {
    const agency = await signUpAgency('starter', { verifyEmail: false });
    expect((await api('POST', '/v1/auth/password-reset', { body: { email: agency.email } })).status).toBe(202);
    const token = await resetLink(agency.email);
    const [a, b] = await Promise.all(
      ['racing-reset-one-1', 'racing-reset-two-2'].map((newPassword) =>
        api('POST', '/v1/auth/password-reset/confirm', { body: { token, newPassword } }),
      ),
    );
    expect([a!.status, b!.status].sort()).toEqual([204, 400]);
  });

  it('sends nothing to the users of a closed sub-account', async () => {
    const agency = await signUpAgency();
    const client = await createSubAccount(agency.token);
    expect((await api('DELETE', `/v1/sub-accounts/${client.subAccountId}`, { token: agency.token })).status).toBe(204);
    expect((await api('POST', '/v1/auth/password-reset', { body: { email: client.email } })).status).toBe(202);
    // The agency's own reset, asked after, arrives: by then the client's would have been sent too.
    await api('POST', '/v1/auth/password-reset', { body: { email: agency.email } });
    await resetLink(agency.email);
    await pipelineIdle();
    expect((await emailsTo(client.email)).filter((m) => /^Reset your/.test(m.subject))).toEqual([]);
  });

  it('is throttled per email, the same for known and unknown emails', async () => {
    const agency = await signUpAgency('starter', { verifyEmail: false });
    for (const email of [agency.email, uniqueEmail(uniq('nobody'))]) {
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push((await api('POST', '/v1/auth/password-reset', { body: { email } })).status);
      expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);
    }
  });
});
