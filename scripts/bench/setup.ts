import type { LocalStack } from '#local/stack';
import { emailedToken } from '../lib/local-api';

export type Api = (method: string, path: string, body: unknown, headers?: Record<string, string>) => Promise<any>;

/** A JSON call to the local gateway; anything but 2xx stops the bench with the answer. */
export function apiOf(stack: Pick<LocalStack, 'apiUrl'>): Api {
  return async (method, path, body, headers = {}) => {
    const res = await fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    const json = (text ? JSON.parse(text) : undefined) as any; // 204s have no body
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
}

export interface BenchAgency {
  agencyId: string;
  /** An agency user's session token. */
  token: string;
}

/** An agency on the Agency plan (reselling needs it) with a billion credits in its pool. */
export async function agencyWithPool(api: Api, platformKey: string, run: string, inbox: string): Promise<BenchAgency> {
  const signup = await api('POST', '/v1/agencies', {
    agencyName: 'Bench',
    name: 'B',
    email: `bench-${run}@bench.test`,
    password: 'bench-password-1',
  });
  const agencyId: string = signup.agency.id;
  // Plans are the platform's to set; sub-accounts need the owner's email verified (the emailed link).
  await api('PATCH', `/v1/admin/agencies/${agencyId}`, { plan: 'agency' }, { authorization: `Bearer ${platformKey}` });
  await api('POST', '/v1/auth/verify-email', { token: await emailedToken(inbox, `bench-${run}@bench.test`) });
  await api(
    'POST',
    `/v1/admin/agencies/${agencyId}/credits`,
    { credits: 1_000_000_000, reference: 'bench' },
    { authorization: `Bearer ${platformKey}`, 'idempotency-key': `bench-${run}` },
  );
  return { agencyId, token: signup.token };
}

/** `n` manual-mode sub-accounts (debits come from the pool), created a few at a time. */
export async function subAccounts(api: Api, agency: BenchAgency, n: number, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 8) {
    const batch = Array.from({ length: Math.min(8, n - i) }, (_, j) =>
      api(
        'POST',
        '/v1/sub-accounts',
        { name: `Bench ${label} ${i + j}`, email: `${label}-${i + j}-${agency.agencyId}@bench.test`.toLowerCase() },
        { authorization: `Bearer ${agency.token}` },
      ).then((out) => out.subAccount.id as string),
    );
    ids.push(...(await Promise.all(batch)));
  }
  return ids;
}

/**
 * Puts a sub-account in reselling mode with `credits` in its wallet. The one place that knows
 * how: today the agency switches the mode itself (its Agency plan allows it) and grants the
 * credits; when the switch moves behind a platform call, only this function changes.
 */
export async function makeReselling(api: Api, agency: BenchAgency, subAccountId: string, credits: number, run: string) {
  const auth = { authorization: `Bearer ${agency.token}` };
  await api('PATCH', `/v1/sub-accounts/${subAccountId}`, { creditMode: 'reselling' }, auth);
  await api(
    'POST',
    `/v1/sub-accounts/${subAccountId}/credits/grants`,
    { credits, reference: 'bench' },
    { ...auth, 'idempotency-key': `grant-${run}-${subAccountId}` },
  );
}

/** One debit per account through the API, so each account's meter is on this month, as a busy account's is. */
export async function debitOnce(api: Api, platformKey: string, accountIds: string[], run: string): Promise<void> {
  for (let i = 0; i < accountIds.length; i += 8) {
    await Promise.all(
      accountIds
        .slice(i, i + 8)
        .map((id) =>
          api(
            'POST',
            `/v1/accounts/${id}/usage`,
            { type: 'ai_response', quantity: 1 },
            { authorization: `Bearer ${platformKey}`, 'idempotency-key': `first-${run}-${id}` },
          ),
        ),
    );
  }
}
