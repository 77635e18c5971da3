import type { Api } from '../bench/setup';
import { emailedToken } from '../lib/local-api';

export interface LoadSub {
  id: string;
  mode: 'manual' | 'reselling';
  email: string;
  password: string;
  /** The client's session token. */
  token: string;
}

export interface LoadAgency {
  id: string;
  email: string;
  password: string;
  token: string;
  subs: LoadSub[];
  campaignId: string;
}

export interface LoadWorld {
  agencies: LoadAgency[];
  platformKey: string;
}

export interface WorldShape {
  agencies: number;
  /** Sub-accounts per agency: the first half manual (one with a monthly limit), the rest reselling. */
  subsPerAgency: number;
  /** Credits in each pool at the start; each wallet starts with `walletCredits` granted from it. */
  poolCredits: number;
  walletCredits: number;
  /** The monthly limit of each agency's first manual sub-account, so some debits meet 402 credit_limit_reached. */
  monthlyLimit: number;
}

const password = (label: string) => `load-${label}-correct-horse`;

/**
 * What the load runs against, made through the API as a client would: agencies on the Agency
 * plan (set by the platform) with their owner's email verified by the emailed link, a pool
 * topped up, manual and reselling sub-accounts (reselling wallets filled by a grant), a client
 * session per sub-account and one campaign per agency to copy.
 */
export async function buildWorld(
  api: Api,
  platformKey: string,
  inbox: string,
  run: string,
  shape: WorldShape,
): Promise<LoadWorld> {
  const platform = { authorization: `Bearer ${platformKey}` };
  const agencies = await Promise.all(
    Array.from({ length: shape.agencies }, async (_, a): Promise<LoadAgency> => {
      const email = `owner-${a}-${run}@load.test`;
      const signup = await api('POST', '/v1/agencies', {
        agencyName: `Load agency ${a}`,
        name: `Owner ${a}`,
        email,
        password: password(`owner-${a}`),
      });
      const id: string = signup.agency.id;
      const auth = { authorization: `Bearer ${signup.token}` };
      await api('PATCH', `/v1/admin/agencies/${id}`, { plan: 'agency' }, platform);
      await api('POST', '/v1/auth/verify-email', { token: await emailedToken(inbox, email) });
      await api(
        'POST',
        `/v1/admin/agencies/${id}/credits`,
        { credits: shape.poolCredits, reference: 'load' },
        { ...platform, 'idempotency-key': `load-top-up-${id}` },
      );
      const subs: LoadSub[] = [];
      const manual = Math.ceil(shape.subsPerAgency / 2);
      for (let s = 0; s < shape.subsPerAgency; s++) {
        const subEmail = `client-${a}-${s}-${run}@load.test`;
        const created = await api('POST', '/v1/sub-accounts', { name: `Client ${a}.${s}`, email: subEmail }, auth);
        const sub: string = created.subAccount.id;
        const mode = s < manual ? 'manual' : 'reselling';
        if (s === 0) await api('PATCH', `/v1/sub-accounts/${sub}`, { monthlyCreditLimit: shape.monthlyLimit }, auth);
        if (mode === 'reselling') {
          await api('PATCH', `/v1/sub-accounts/${sub}`, { creditMode: 'reselling' }, auth);
          await api(
            'POST',
            `/v1/sub-accounts/${sub}/credits/grants`,
            { credits: shape.walletCredits, reference: 'load' },
            { ...auth, 'idempotency-key': `load-grant-${sub}` },
          );
        }
        const login = await api('POST', '/v1/auth/login', { email: subEmail, password: created.password });
        subs.push({ id: sub, mode, email: subEmail, password: created.password, token: login.token });
      }
      const campaign = await api(
        'POST',
        `/v1/accounts/${id}/campaigns`,
        {
          name: 'Spring re-engagement',
          instructions: 'Be brief.',
          faqs: [{ question: 'Hours?', answer: '9 to 5' }],
          settings: { channel: 'sms' },
        },
        auth,
      );
      return { id, email, password: password(`owner-${a}`), token: signup.token, subs, campaignId: campaign.campaign.id };
    }),
  );
  return { agencies, platformKey };
}
