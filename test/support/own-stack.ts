import { randomBytes } from 'node:crypto';
import { checkResponse } from './contract';

/**
 * A client of a stack a test started itself (fault tests, a child `npm start`), not the shared
 * test stack: support/api.ts is bound to that one. Every response is held to the contract too.
 */
export interface StackUrls {
  apiUrl: string;
  sesUrl: string;
  platformApiKey: string;
}

export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface OwnClient {
  call<T = any>(
    method: string,
    path: string,
    opts?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Answer<T>>;
  emailsTo(address: string): Promise<{ subject: string; body: { text?: string } }[]>;
  /** The token of the newest email to `address` whose link carries `token=` (waits for it). */
  emailedToken(address: string, subject: RegExp): Promise<string>;
  /** An agency signed up, its owner's email verified through the emailed link, and on `plan`. */
  agency(plan?: 'starter' | 'pro' | 'agency'): Promise<{ id: string; email: string; password: string; token: string }>;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(probe: () => Promise<T | undefined | false>, label: string, timeoutMs = 30_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await sleep(100);
  }
}

export function ownClient(stack: StackUrls): OwnClient {
  const call: OwnClient['call'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${stack.apiUrl}${path}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    const text = await res.text();
    const body = text ? JSON.parse(text) : undefined;
    checkResponse({ method, path, status: res.status, contentType: res.headers.get('content-type') ?? undefined, body });
    return { status: res.status, body, headers: res.headers };
  };
  const emailsTo: OwnClient['emailsTo'] = async (address) => {
    const store = (await (await fetch(`${stack.sesUrl}/store`)).json()) as {
      emails: { destination: { to: string[] }; subject: string; body: { text?: string } }[];
    };
    return store.emails.filter((e) => e.destination.to.includes(address));
  };
  const emailedToken: OwnClient['emailedToken'] = (address, subject) =>
    until(async () => {
      const text = (await emailsTo(address)).filter((m) => subject.test(m.subject)).at(-1)?.body.text;
      return text && /[?&]token=([A-Za-z0-9_-]+)/.exec(text)?.[1];
    }, `an email with a token to ${address}`);
  return {
    call,
    emailsTo,
    emailedToken,
    async agency(plan = 'agency') {
      const email = `owner-${randomBytes(5).toString('hex')}@example.test`;
      const password = `pw-${randomBytes(8).toString('hex')}`;
      const signUp = await call('POST', '/v1/agencies', { body: { agencyName: 'Own stack', name: 'Owner', email, password } });
      if (signUp.status !== 201) throw new Error(`sign-up: ${signUp.status} ${JSON.stringify(signUp.body)}`);
      const id: string = signUp.body.agency.id;
      if (plan !== 'starter') {
        const set = await call('PATCH', `/v1/admin/agencies/${id}`, { token: stack.platformApiKey, body: { plan } });
        if (set.status !== 200) throw new Error(`plan: ${set.status}`);
      }
      const token = await emailedToken(email, /^Confirm your email/);
      const verified = await call('POST', '/v1/auth/verify-email', { body: { token } });
      if (verified.status !== 204) throw new Error(`verify: ${verified.status}`);
      return { id, email, password, token: signUp.body.token };
    },
  };
}
