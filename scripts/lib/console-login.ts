import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { emailedToken, jsonRequester } from './local-api';

/**
 * A login for the web console of a local stack, so `npm start` can print one: an agency on the
 * Agency plan (every feature) with its email confirmed, signed up through the API as any agency
 * is. Its email and password are kept in `file` (under .data/, beside the data they belong to),
 * so a restart prints the same login; a stack without that file (a fresh or in-memory table)
 * gets a new agency. It holds no credits: the console's Buy pool credits pays the local Stripe
 * sandbox, the one place credits enter.
 */
export interface ConsoleLogin {
  email: string;
  password: string;
  /** `created` now; `kept` from an earlier start; `stale`: the kept password no longer logs in (changed in the console). */
  state: 'created' | 'kept' | 'stale';
}

export interface LocalStackUrls {
  apiUrl: string;
  inboxUrl: string;
  platformApiKey: string;
}

export async function ensureConsoleLogin(stack: LocalStackUrls, file: string | undefined): Promise<ConsoleLogin> {
  const request = jsonRequester(stack.apiUrl);
  const kept = file && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Omit<ConsoleLogin, 'state'>) : undefined;
  if (kept) {
    const login = await request('POST', '/v1/auth/login', { body: kept, ok: [401, 429] });
    if (login.status === 200) return { ...kept, state: 'kept' };
  }

  // Random, so a copied .data/ or a shared screen never hands out a guessable local login.
  const password = randomBytes(12).toString('base64url');
  const email = kept?.email ?? `owner-${randomBytes(3).toString('hex')}@local-agency.test`;
  const signup = await request('POST', '/v1/agencies', {
    body: { agencyName: 'Local Agency', name: 'Local Owner', email, password },
    ok: [409],
  });
  // The kept email still has its agency, whose password was changed (in the console): say so, keep it.
  if (signup.status === 409 && kept) return { ...kept, state: 'stale' };
  if (signup.status === 409) throw new Error(`${email} is taken`);
  const agencyId: string = signup.body.agency.id;
  await request('PATCH', `/v1/admin/agencies/${agencyId}`, { token: stack.platformApiKey, body: { plan: 'agency' } });
  const token = await emailedToken(stack.inboxUrl, email);
  await request('POST', '/v1/auth/verify-email', { body: { token } });
  if (file) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify({ email, password }, null, 2)}\n`, { mode: 0o600 });
  }
  return { email, password, state: 'created' };
}
