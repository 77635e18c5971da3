/**
 * The console's components, rendered in a DOM (happy-dom) against the shared test stack's real
 * API: the page's origin is the stack's gateway, so the API client's relative calls reach the
 * same handlers the browser test and the deployed console use. The requests the component made
 * are recorded (a spy that passes every call through, never an answer of its own).
 */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { configure, render } from '@testing-library/react';
import type { ReactNode } from 'react';
import { MemoryRouter } from 'react-router';
import { stack } from '../support/stack';

// waitFor waits on the real API: Testing Library's 1 s default is a timing assertion on a loaded
// machine (seen failing at load 15). A wait ends as soon as what it waits for is true.
configure({ asyncUtilTimeout: 15_000 });

export interface Sent {
  method: string;
  path: string;
  body: unknown;
}

/** Call before importing any console module: the API client takes the page's origin when it loads. */
export function pointConsoleAtStack(): Sent[] {
  (window as unknown as { happyDOM: { setURL(url: string): void } }).happyDOM.setURL(`${stack.apiUrl}/`);
  const sent: Sent[] = [];
  const passThrough = globalThis.fetch.bind(globalThis);
  globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    // The DOM's fetch keeps a response cache as a browser does; the tests' own polling (the
    // inbox, a balance) must see each answer fresh.
    request.headers.set('cache-control', 'no-cache');
    const text = request.method === 'GET' ? '' : await request.clone().text();
    sent.push({ method: request.method, path: new URL(request.url).pathname, body: text ? JSON.parse(text) : undefined });
    return passThrough(request);
  };
  return sent;
}

/** Signed in as `token` (the session the console keeps in sessionStorage), with a fresh query cache. */
export async function renderSignedIn(
  ui: ReactNode,
  token: string,
  principal: { accountId: string; accountType: 'agency' | 'sub_account' },
) {
  sessionStorage.setItem(
    'agency-accounts.session',
    JSON.stringify({ token, expiresAt: new Date(Date.now() + 3_600_000).toISOString(), principal }),
  );
  const { SessionProvider } = await import('../../packages/console/src/session');
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <SessionProvider>
        <MemoryRouter>{ui}</MemoryRouter>
      </SessionProvider>
    </QueryClientProvider>,
  );
}
