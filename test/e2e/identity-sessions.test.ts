/**
 * Sessions that end, login throttling, password rules and the agency's email verification,
 * over HTTP against the local stack, emails read back from the SES emulator. Windows and
 * expiries are crossed with the test stack's clock header, never by waiting.
 */
import { describe, expect, it } from 'vitest';
import {
  api,
  assistToken,
  createSubAccount,
  emailsTo,
  signUpAgency,
  tokenFromEmail,
  uniq,
  uniqueEmail,
  verifyAgencyEmail,
} from '../support/api';
import { itemsMentioning } from '../support/table';

const at = (ms: number) => ({ 'x-test-clock': new Date(ms).toISOString() });
const MINUTE = 60_000;

describe('email verification', () => {
  it('gates sub-account creation until the owner follows the emailed link, once', async () => {
    const email = uniqueEmail('owner');
    const signup = await api('POST', '/v1/agencies', {
      body: { agencyName: uniq('Agency'), name: 'Owner', email, password: 'an-unlikely-pass-42' },
    });
    expect(signup.status).toBe(201);
    expect(signup.body.agency.emailVerified).toBe(false);
    const token = signup.body.token as string;

    const refused = await api('POST', '/v1/sub-accounts', { token, body: { name: 'Early', email: uniqueEmail('early') } });
    expect([refused.status, refused.body.code]).toEqual([403, 'email_not_verified']);
    expect((await itemsMentioning(signup.body.agency.id)).filter((i) => i.kind === 'account')).toHaveLength(1);

    const link = await tokenFromEmail(email, /^Confirm your email/);
    const mail = (await emailsTo(email)).at(-1)!;
    expect(mail.body.text).toMatch(/\/verify-email\?token=[A-Za-z0-9_-]{43}\b/);
    expect((await api('POST', '/v1/auth/verify-email', { body: { token: link } })).status).toBe(204);
    const again = await api('POST', '/v1/auth/verify-email', { body: { token: link } });
    expect([again.status, again.body.errors?.[0]?.field]).toEqual([400, 'token']);

    const created = await api('POST', '/v1/sub-accounts', { token, body: { name: 'Now', email: uniqueEmail('now') } });
    expect(created.status).toBe(201);
  });

  it('refuses an expired or unknown token; a token still verifies just before its 24 hours end', async () => {
    const early = await signUpAgency('starter', { verifyEmail: false });
    const token = await tokenFromEmail(early.email, /^Confirm your email/);
    const expired = await api('POST', '/v1/auth/verify-email', {
      body: { token },
      headers: { 'x-test-clock': `+${24 * 60 * MINUTE + 1000}` },
    });
    expect(expired.status).toBe(400);
    const unknown = await api('POST', '/v1/auth/verify-email', { body: { token: 'A'.repeat(43) } });
    expect(unknown.status).toBe(400);
    const inTime = await api('POST', '/v1/auth/verify-email', {
      body: { token },
      headers: { 'x-test-clock': `+${24 * 60 * MINUTE - 60_000}` },
    });
    expect(inTime.status).toBe(204);
  });

  it('resends the link on request, throttled per agency', async () => {
    const agency = await signUpAgency('starter', { verifyEmail: false });
    await tokenFromEmail(agency.email, /^Confirm your email/);
    const T = Date.now();
    for (let i = 0; i < 3; i++) {
      const res = await api('POST', '/v1/auth/verify-email/resend', { token: agency.token, headers: at(T) });
      expect(res.status).toBe(202);
    }
    const fourth = await api('POST', '/v1/auth/verify-email/resend', { token: agency.token, headers: at(T) });
    expect([fourth.status, fourth.body.code]).toEqual([429, 'too_many_attempts']);
    expect(Number(fourth.headers.get('retry-after'))).toBeGreaterThan(0);
    // The newest link works as well as the first.
    await verifyAgencyEmail(agency.email);
    expect((await createSubAccount(agency.token)).subAccountId).toMatch(/^sub_/);
  });
});

describe('login throttling', () => {
  it('answers 429 with Retry-After from the 11th attempt in 15 minutes, right password included, until the window passes', async () => {
    const agency = await signUpAgency('starter', { verifyEmail: false });
    const T = Date.now();
    for (let i = 0; i < 10; i++) {
      const res = await api('POST', '/v1/auth/login', {
        body: { email: agency.email, password: `wrong-password-${i}` },
        headers: at(T + i * MINUTE),
      });
      expect(res.status).toBe(401);
    }
    const right = { email: agency.email.toUpperCase(), password: agency.password };
    const blocked = await api('POST', '/v1/auth/login', { body: right, headers: at(T + 10 * MINUTE) });
    expect([blocked.status, blocked.body.code]).toEqual([429, 'too_many_attempts']);
    // The window opened with the first failure at T: it closes at T + 15 min.
    expect(Number(blocked.headers.get('retry-after'))).toBe(5 * 60);
    expect((await api('POST', '/v1/auth/login', { body: right, headers: at(T + 15 * MINUTE - 1000) })).status).toBe(429);
    const after = await api('POST', '/v1/auth/login', { body: right, headers: at(T + 15 * MINUTE + 1000) });
    expect(after.status).toBe(200);
  });

  it('treats an unknown email exactly like a known one', async () => {
    const email = uniqueEmail('nobody');
    const T = Date.now();
    const answers = [];
    for (let i = 0; i < 11; i++) {
      const res = await api('POST', '/v1/auth/login', { body: { email, password: 'whatever-it-is-1' }, headers: at(T) });
      answers.push(res.status);
    }
    expect(answers).toEqual([...Array(10).fill(401), 429]);
  });

  it('a successful login gives its attempt back: failures, not logins, are counted', async () => {
    const agency = await signUpAgency('starter', { verifyEmail: false });
    const T = Date.now();
    const login = (password: string) =>
      api('POST', '/v1/auth/login', { body: { email: agency.email, password }, headers: at(T) });
    for (let i = 0; i < 9; i++) expect((await login(`wrong-password-${i}`)).status).toBe(401);
    expect((await login(agency.password)).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await login(`wrong-again-${i}`)).status).toBe(401);
    expect((await login(agency.password)).status).toBe(429);
  });
});

describe('sessions that end', () => {
  it('a password change answers a new session and ends every earlier one (assist included); API keys go on', async () => {
    const agency = await signUpAgency();
    const sub = await createSubAccount(agency.token);
    const key = await api('POST', '/v1/api-keys', { token: agency.token, body: { name: 'server' } });
    const other = await api('POST', '/v1/auth/login', { body: { email: agency.email, password: agency.password } });
    const assist = await assistToken(agency.token, sub.subAccountId);

    const changed = await api('POST', '/v1/auth/password', {
      token: other.body.token,
      body: { currentPassword: agency.password, newPassword: 'fresh-horse-battery-9' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({ token: expect.any(String), expiresAt: expect.any(String) });
    for (const ended of [agency.token, other.body.token, assist]) {
      expect((await api('GET', '/v1/me', { token: ended })).status).toBe(401);
    }
    expect((await api('GET', '/v1/me', { token: changed.body.token })).status).toBe(200);
    expect((await api('GET', '/v1/sub-accounts', { token: key.body.key })).status).toBe(200);
    // The client's own session is another user's: untouched.
    expect((await api('GET', '/v1/me', { token: sub.token })).status).toBe(200);
  });

  it('two password changes racing from one session: one wins, the other is a 401 (was a 500)', async () => {
    const agency = await signUpAgency('starter', { verifyEmail: false });
    const change = (newPassword: string) =>
      api('POST', '/v1/auth/password', { token: agency.token, body: { currentPassword: agency.password, newPassword } });
    const results = await Promise.all([change('first-racer-password-1'), change('second-racer-password-2')]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    const winner = results.findIndex((r) => r.status === 200);
    const password = ['first-racer-password-1', 'second-racer-password-2'][winner]!;
    expect((await api('POST', '/v1/auth/login', { body: { email: agency.email, password } })).status).toBe(200);
    expect((await api('GET', '/v1/me', { token: results[winner]!.body.token })).status).toBe(200);
  });

  it('logout ends that token only; assist tokens log out too', async () => {
    const agency = await signUpAgency();
    const sub = await createSubAccount(agency.token);
    const second = await api('POST', '/v1/auth/login', { body: { email: agency.email, password: agency.password } });
    expect((await api('POST', '/v1/auth/logout', { token: second.body.token })).status).toBe(204);
    expect((await api('GET', '/v1/me', { token: second.body.token })).status).toBe(401);
    expect((await api('GET', '/v1/me', { token: agency.token })).status).toBe(200);

    expect((await api('POST', '/v1/auth/logout', { token: sub.token })).status).toBe(204);
    expect((await api('GET', '/v1/me', { token: sub.token })).status).toBe(401);

    const assist = await assistToken(agency.token, sub.subAccountId);
    expect((await api('POST', '/v1/auth/logout', { token: assist })).status).toBe(204);
    expect((await api('GET', '/v1/me', { token: assist })).status).toBe(401);
  });

  it("an agency session's logout ends the assist tokens it started, not another session's", async () => {
    const agency = await signUpAgency();
    const sub = await createSubAccount(agency.token);
    const other = await api('POST', '/v1/auth/login', { body: { email: agency.email, password: agency.password } });
    const mine = await assistToken(agency.token, sub.subAccountId);
    const theirs = await assistToken(other.body.token, sub.subAccountId);
    expect((await api('GET', '/v1/me', { token: mine })).status).toBe(200);

    expect((await api('POST', '/v1/auth/logout', { token: agency.token })).status).toBe(204);
    expect((await api('GET', '/v1/me', { token: mine })).status).toBe(401);
    expect((await api('GET', '/v1/me', { token: theirs })).status).toBe(200);
    expect((await api('GET', '/v1/me', { token: other.body.token })).status).toBe(200);
    // The client's own session is not the agency's: untouched.
    expect((await api('GET', '/v1/me', { token: sub.token })).status).toBe(200);
  });
});

describe('password rules', () => {
  it('refuses the most common passwords, and ones made of the person’s own details, at sign-up and change', async () => {
    for (const password of ['password123', '1234567890', 'qwertyuiop', 'iloveyou12']) {
      const res = await api('POST', '/v1/agencies', {
        body: { agencyName: uniq('Agency'), name: 'Owner', email: uniqueEmail(), password },
      });
      expect([password, res.status, res.body.errors?.[0]?.field]).toEqual([password, 400, 'password']);
    }
    const agency = await signUpAgency('starter', { verifyEmail: false });
    const weak = await api('POST', '/v1/auth/password', {
      token: agency.token,
      body: { currentPassword: agency.password, newPassword: 'baseball123' },
    });
    expect([weak.status, weak.body.errors?.[0]?.field]).toEqual([400, 'newPassword']);
    const own = await api('POST', '/v1/auth/password', {
      token: agency.token,
      body: { currentPassword: agency.password, newPassword: agency.email },
    });
    expect([own.status, own.body.errors?.[0]?.field]).toEqual([400, 'newPassword']);
    // Refused changes left the session and the password alone.
    expect((await api('GET', '/v1/me', { token: agency.token })).status).toBe(200);
  });
});
