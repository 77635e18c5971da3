import { randomBytes } from 'node:crypto';
import { checkResponse } from './contract';
import { wakeStreamPollers } from './idle';
import { stack } from './stack';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** Sent as is, for malformed-body tests. */
  rawBody?: string;
  headers?: Record<string, string>;
  /** Run the request at this instant (ISO) or offset (`+ms`): the test stack's `x-test-clock`. */
  clock?: string;
  /** Another gateway over the same table (default: the shared stack's). */
  baseUrl?: string;
}

/** One HTTP call to the local gateway. */
export async function api<T = any>(method: string, path: string, opts: CallOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.clock) headers['x-test-clock'] = opts.clock;
  let body: string | undefined = opts.rawBody;
  if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(`${opts.baseUrl ?? stack.apiUrl}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // non-JSON (CSV) bodies stay text
  }
  // Every response any test receives is held to the published contract (support/contract.ts).
  checkResponse({ method, path, status: res.status, contentType: res.headers.get('content-type') ?? undefined, body: parsed });
  return { status: res.status, body: parsed as T, headers: res.headers, text };
}

export const uniq = (label = 'x') => `${label}-${randomBytes(5).toString('hex')}`;
export const uniqueEmail = (label = 'user') => `${uniq(label)}@example.test`;

export interface AgencyFixture {
  agencyId: string;
  name: string;
  userId: string;
  email: string;
  password: string;
  token: string;
}

/** A new agency: signed up (always starter), its plan set by the platform when another is asked, and its owner's email verified through the real email (as creating a sub-account needs) unless told not to. */
export async function signUpAgency(
  plan: 'starter' | 'pro' | 'agency' = 'agency',
  opts: { verifyEmail?: boolean } = {},
): Promise<AgencyFixture> {
  const email = uniqueEmail('owner');
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const name = uniq('Agency');
  const res = await api('POST', '/v1/agencies', { body: { agencyName: name, name: 'Owner', email, password } });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${res.text}`);
  const agencyId: string = res.body.agency.id;
  if (plan !== 'starter') await setAgency(agencyId, { plan });
  if (opts.verifyEmail !== false) await verifyAgencyEmail(email);
  return { agencyId, name, userId: res.body.user.id, email, password, token: res.body.token };
}

/** The platform's PATCH of an agency (plan and/or status), which must succeed. */
export async function setAgency(agencyId: string, body: { plan?: string; status?: string }): Promise<ApiResponse> {
  const res = await api('PATCH', `/v1/admin/agencies/${agencyId}`, { token: stack.platformApiKey, body });
  if (res.status !== 200) throw new Error(`admin PATCH failed: ${res.status} ${res.text}`);
  return res;
}
/** The token of the newest email to `address` whose link carries `token=` (waits for it to arrive). */
export async function tokenFromEmail(address: string, subject?: RegExp, after = 0): Promise<string> {
  return waitFor(
    async () => {
      const mails = (await emailsTo(address)).filter((m) => !subject || subject.test(m.subject));
      const text = mails.slice(after).at(-1)?.body.text;
      return text && /[?&]token=([A-Za-z0-9_-]+)/.exec(text)?.[1];
    },
    15_000,
    `an email with a token to ${address}`,
  );
}

/** Follows the verification email the way the owner would: its token, posted back. */
export async function verifyAgencyEmail(email: string): Promise<void> {
  const token = await tokenFromEmail(email, /^Confirm your email/);
  const res = await api('POST', '/v1/auth/verify-email', { body: { token } });
  if (res.status !== 204) throw new Error(`verify email failed: ${res.status} ${res.text}`);
}

export interface SubAccountFixture {
  subAccountId: string;
  name: string;
  email: string;
  password: string;
  /** A session token of the client user. */
  token: string;
}

export async function createSubAccount(agencyToken: string, name = uniq('Client')): Promise<SubAccountFixture> {
  const email = uniqueEmail('client');
  const res = await api('POST', '/v1/sub-accounts', { token: agencyToken, body: { name, email } });
  if (res.status !== 201) throw new Error(`create sub-account failed: ${res.status} ${res.text}`);
  const login = await api('POST', '/v1/auth/login', { body: { email, password: res.body.password } });
  if (login.status !== 200) throw new Error(`client login failed: ${login.status} ${login.text}`);
  return { subAccountId: res.body.subAccount.id, name, email, password: res.body.password, token: login.body.token };
}

export async function assistToken(agencyToken: string, subAccountId: string): Promise<string> {
  const res = await api('POST', `/v1/sub-accounts/${subAccountId}/assist`, { token: agencyToken });
  if (res.status !== 201) throw new Error(`assist failed: ${res.status} ${res.text}`);
  return res.body.token;
}

export interface SentEmail {
  messageId: string;
  destination: { to: string[] };
  subject: string;
  body: { text?: string; html?: string };
}

/**
 * Emails the SES emulator holds for one address.
 *
 * The inbox keeps every email of the run (thousands by its end) and tests poll it: a worker reads
 * only what arrived since it started (the emulator's `since`, epoch seconds), as its addresses
 * are all new. `performance.timeOrigin` is the real start, whatever a test does to Date.
 */
const inboxSince = Math.floor(performance.timeOrigin / 1000) - 60;

export async function emailsTo(address: string): Promise<SentEmail[]> {
  // A test polling the inbox waits on the pipeline: an email comes as quickly as when the pollers polled faster.
  wakeStreamPollers(stack);
  const res = await fetch(`${stack.sesUrl}/store?since=${inboxSince}`);
  const store = (await res.json()) as { emails: SentEmail[] };
  return store.emails.filter((e) => e.destination.to.includes(address));
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
  label = 'condition',
): Promise<T> {
  // A monotonic clock: a test may move Date.now (the interleavings model moves it past leases
  // while the next run's agency waits for its email).
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
