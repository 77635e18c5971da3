import type { LoadWorld } from './setup';

/** One request of the mix; `move` when it moves credits (its outcome is checked against the table). */
export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  token: string;
  body?: unknown;
  move?: Move;
}

/** A money-moving request as sent: what the table must hold for it, given its answer. */
export interface Move {
  op: 'usage' | 'grant';
  key: string;
  /** The account charged (usage) or granted to. */
  accountId: string;
  credits: number;
  /** The HTTP status it got; undefined = no answer (cut at the end of the run, or timed out). */
  status?: number;
}

export interface RouteGroup {
  name: string;
  /** Concurrent connections, each sending its next request when the last one is answered. */
  connections: number;
  /** At most this many requests per second for the whole group (logins: scrypt is meant to be slow). */
  rate?: number;
  next(): LoadRequest;
}

const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)] as T;
const between = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

/**
 * The traffic: debits on pools (agencies themselves and manual sub-accounts) and on wallets
 * (reselling sub-accounts), grants, reads of balances, history and dashboards, logins and
 * campaign copies, across every agency. Connections per group set the mix.
 */
export function routeGroups(world: LoadWorld, run: string, scale: number, routes: Set<string>): RouteGroup[] {
  const { agencies, platformKey } = world;
  let seq = 0;
  const key = (op: string) => `load-${op}-${run}-${seq++}`;
  const subs = agencies.flatMap((a) => a.subs.map((s) => ({ agency: a, sub: s })));
  const poolAccounts = [...agencies.map((a) => a.id), ...subs.filter((s) => s.sub.mode === 'manual').map((s) => s.sub.id)];
  const reselling = subs.filter((s) => s.sub.mode === 'reselling');
  const conns = (n: number) => Math.max(1, Math.round(n * scale));

  const usage = (accountId: string): LoadRequest => {
    const credits = between(1, 3);
    const k = key('usage');
    return {
      method: 'POST',
      path: `/v1/accounts/${accountId}/usage`,
      token: platformKey,
      body: {
        type: pick(['ai_response', 'campaign_message'] as const),
        quantity: credits,
        contactId: `contact_${between(1, 50)}`,
        campaignId: pick([undefined, 'cmp_spring', 'cmp_summer']),
      },
      move: { op: 'usage', key: k, accountId, credits },
    };
  };

  return [
    { name: 'debit (pool)', connections: conns(6), next: () => usage(pick(poolAccounts)) },
    { name: 'debit (wallet)', connections: conns(4), next: () => usage(pick(reselling).sub.id) },
    {
      name: 'grant',
      connections: conns(2),
      next: () => {
        const { agency, sub } = pick(reselling);
        const credits = between(1, 8);
        const k = key('grant');
        return {
          method: 'POST',
          path: `/v1/sub-accounts/${sub.id}/credits/grants`,
          token: agency.token,
          body: { credits, reference: 'load' },
          move: { op: 'grant', key: k, accountId: sub.id, credits },
        };
      },
    },
    {
      name: 'balance read',
      connections: conns(2),
      next: () => {
        if (Math.random() < 0.5) return { method: 'GET', path: '/v1/credits/balance', token: pick(agencies).token };
        const { sub } = pick(reselling);
        return { method: 'GET', path: `/v1/accounts/${sub.id}/wallet`, token: sub.token };
      },
    },
    {
      name: 'history',
      connections: conns(2),
      next: () => {
        const { agency, sub } = pick(subs);
        const query = Math.random() < 0.5 ? '?limit=50' : `?limit=20&subAccountId=${sub.id}`;
        return { method: 'GET', path: `/v1/credits/transactions${query}`, token: agency.token };
      },
    },
    {
      name: 'dashboard',
      connections: conns(2),
      next: () => {
        const { agency, sub } = pick(subs);
        return pick<LoadRequest>([
          { method: 'GET', path: '/v1/credits/usage', token: agency.token },
          { method: 'GET', path: `/v1/accounts/${sub.id}/usage`, token: sub.token },
          // The reselling dashboard, once the API has it.
          ...(routes.has('/v1/reselling/dashboard')
            ? [{ method: 'GET', path: '/v1/reselling/dashboard?limit=50', token: agency.token } as const]
            : []),
        ]);
      },
    },
    {
      name: 'login',
      connections: conns(1),
      rate: 2 * scale,
      next: () => {
        const { agency, sub } = pick(subs);
        const who = Math.random() < 0.5 ? agency : sub;
        return { method: 'POST', path: '/v1/auth/login', token: '', body: { email: who.email, password: who.password } };
      },
    },
    {
      name: 'campaign copy',
      connections: conns(1),
      next: () => {
        const { agency, sub } = pick(subs);
        return {
          method: 'POST',
          path: `/v1/accounts/${agency.id}/campaigns/${agency.campaignId}/copy`,
          token: agency.token,
          body: { targetAccountId: sub.id },
        };
      },
    },
  ];
}
