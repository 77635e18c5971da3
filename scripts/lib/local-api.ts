import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

/** The API of a running `npm start` (API_URL, else its PORT on 127.0.0.1). */
export const localApiUrl = process.env.API_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;

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

/** A JSON caller for scripts: throws on any non-2xx; `money` sends a fresh Idempotency-Key. */
export function jsonCaller(baseUrl: string) {
  return async (method: string, path: string, opts: { token?: string; body?: unknown; money?: boolean } = {}) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(opts.body ? { 'content-type': 'application/json' } : {}),
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        ...(opts.money ? { 'idempotency-key': randomUUID() } : {}),
      },
      body: opts.body ? JSON.stringify(opts.body) : undefined,
    });
    const body = (await res.json().catch(() => undefined)) as any;
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(body)}`);
    return body;
  };
}
