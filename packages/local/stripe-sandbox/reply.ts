/** What a sandbox route answers; server.ts writes it out. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Stripe's API answers pretty-printed JSON; so does the sandbox. */
export const json = (status: number, value: unknown, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { 'Content-Type': 'application/json', ...headers },
  body: JSON.stringify(value, null, 2),
});

export const html = (status: number, page: string): Reply => ({
  status,
  headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' },
  body: page,
});

export const redirect = (location: string, status: 302 | 303): Reply => ({
  status,
  headers: { Location: location },
  body: '',
});
