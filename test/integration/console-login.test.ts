/**
 * The console login `npm start` prints (scripts/lib/console-login.ts): a working agency login on
 * the Agency plan with its email confirmed, the same one after a restart, a new agency when the
 * data it belonged to is gone, and an honest word when its password was changed.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureConsoleLogin } from '../../scripts/lib/console-login';
import { api } from '../support/api';
import { stack } from '../support/stack';

const urls = { apiUrl: stack.apiUrl, inboxUrl: stack.sesUrl, platformApiKey: stack.env.PLATFORM_API_KEY as string };

async function logIn(email: string, password: string) {
  return api('POST', '/v1/auth/login', { body: { email, password } });
}

describe('the console login npm start prints', () => {
  it('signs up an agency with every feature and a confirmed email, and keeps it across restarts', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'console-login-')), 'console-login.json');
    const first = await ensureConsoleLogin(urls, file);
    expect(first.state).toBe('created');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ email: first.email, password: first.password });
    expect(statSync(file).mode & 0o077).toBe(0); // the password file is the owner's alone

    const login = await logIn(first.email, first.password);
    expect(login.status).toBe(200);
    const me = await api('GET', '/v1/me', { token: login.body.token });
    expect(me.body.agency).toMatchObject({ plan: 'agency', emailVerified: true });

    const again = await ensureConsoleLogin(urls, file);
    expect(again).toEqual({ ...first, state: 'kept' });
  });

  it('says so when the kept password was changed, and never signs up a second agency for it', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'console-login-')), 'console-login.json');
    const first = await ensureConsoleLogin(urls, file);
    const token = (await logIn(first.email, first.password)).body.token;
    const changed = await api('POST', '/v1/auth/password', {
      token,
      body: { currentPassword: first.password, newPassword: 'a-new-password-of-mine' },
    });
    expect(changed.status).toBe(200);

    const after = await ensureConsoleLogin(urls, file);
    expect(after).toEqual({ ...first, state: 'stale' });
    expect((await logIn(first.email, 'a-new-password-of-mine')).status).toBe(200);
  });

  it('signs up anew when the kept login belongs to data that is gone', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'console-login-')), 'console-login.json');
    const gone = { email: `owner-gone-${Date.now()}@local-agency.test`, password: 'from-a-wiped-table' };
    writeFileSync(file, JSON.stringify(gone));
    const fresh = await ensureConsoleLogin(urls, file);
    expect(fresh).toMatchObject({ email: gone.email, state: 'created' });
    expect(fresh.password).not.toBe(gone.password);
    expect((await logIn(fresh.email, fresh.password)).status).toBe(200);
  });

  it('keeps nothing when there is no file to keep it in (in-memory data)', async () => {
    const once = await ensureConsoleLogin(urls, undefined);
    const twice = await ensureConsoleLogin(urls, undefined);
    expect([once.state, twice.state]).toEqual(['created', 'created']);
    expect(twice.email).not.toBe(once.email);
  });
});
