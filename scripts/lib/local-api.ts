import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

/** The API of a running `npm start` (API_URL, else its PORT on 127.0.0.1). */
export const localApiUrl = process.env.API_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;

/** The email inbox (the SES emulator's page) of a running `npm start`. */
export const localInboxUrl = process.env.SES_URL ?? `http://127.0.0.1:${process.env.SES_PORT ?? 8005}`;

/** The platform key of a running `npm start`: PLATFORM_API_KEY, else the one it keeps in `.data/`. */
export function localPlatformKey(): string {
  const key =
    process.env.PLATFORM_API_KEY ||
    (existsSync('.data/local-secrets.json')
      ? (JSON.parse(readFileSync('.data/local-secrets.json', 'utf8')) as { platformApiKey: string }).platformApiKey
      : undefined);
  if (!key) throw new Error('No platform key: start the stack with `npm start` first (or set PLATFORM_API_KEY).');
  return key;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** Send a fresh Idempotency-Key. */
  money?: boolean;
  /** Send this Idempotency-Key. */
  key?: string;
  /** Statuses besides 2xx that are expected (returned, not thrown). */
  ok?: number[];
}

/** A JSON requester for scripts: `{status, body}`, throwing on any status neither 2xx nor in `ok`. */
export function jsonRequester(baseUrl: string) {
  return async (method: string, path: string, opts: CallOptions = {}) => {
    const key = opts.key ?? (opts.money ? randomUUID() : undefined);
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(opts.body ? { 'content-type': 'application/json' } : {}),
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        ...(key ? { 'idempotency-key': key } : {}),
      },
      body: opts.body ? JSON.stringify(opts.body) : undefined,
    });
    const body = (await res.json().catch(() => undefined)) as any;
    if (!res.ok && !opts.ok?.includes(res.status)) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(body)}`);
    return { status: res.status, body };
  };
}

/** The same, answering the body alone. */
export function jsonCaller(baseUrl: string) {
  const request = jsonRequester(baseUrl);
  return async (method: string, path: string, opts: CallOptions = {}) => (await request(method, path, opts)).body;
}

/** The token in the newest email to `address` in the local inbox (the SES emulator), waiting for it. */
export async function emailedToken(inbox: string, address: string): Promise<string> {
  for (let i = 0; i < 150; i++) {
    const store = (await (await fetch(`${inbox}/store`)).json()) as {
      emails: { destination: { to: string[] }; body: { text?: string } }[];
    };
    const text = store.emails.filter((e) => e.destination.to.includes(address)).at(-1)?.body.text;
    const token = text && /[?&]token=([A-Za-z0-9_-]+)/.exec(text)?.[1];
    if (token) return token;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no emailed token reached ${address}`);
}
