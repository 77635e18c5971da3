import type { PrincipalKind } from '#domain/auth/principal';
import { type AgencyFixture, api, assistToken, createSubAccount, type SubAccountFixture, signUpAgency, waitFor } from './api';
import { stack } from './stack';
import { itemsMentioning, snapshotOf } from './table';

/**
 * A whole tenant for route-table-driven tests: an agency (plan `agency`: every feature), its
 * sub-accounts with a logged-in client each, an API key, and an assist token for the first
 * sub-account. Created over HTTP, like any client would.
 */
export interface TenantFixture {
  agency: AgencyFixture;
  apiKey: { id: string; key: string };
  subs: SubAccountFixture[];
  /** Assist token of the agency user acting as `subs[0]`. */
  assist: string;
}

export async function createTenant(subAccounts: number, plan: 'starter' | 'pro' | 'agency' = 'agency'): Promise<TenantFixture> {
  const agency = await signUpAgency(plan);
  const subs: SubAccountFixture[] = [];
  for (let i = 0; i < subAccounts; i++) subs.push(await createSubAccount(agency.token));
  const key = await api('POST', '/v1/api-keys', { token: agency.token, body: { name: 'tests' } });
  if (key.status !== 201) throw new Error(`create API key failed: ${key.status} ${key.text}`);
  const assist = subs[0] ? await assistToken(agency.token, subs[0].subAccountId) : '';
  return { agency, apiKey: { id: key.body.id, key: key.body.key }, subs, assist };
}

/** One credential per principal kind, all of the same tenant; `home` is the sub-account it acts in. */
export interface Caller {
  label: string;
  kind: PrincipalKind;
  token: string;
  agencyId: string;
  /** The sub-account this caller works in (its own for clients and assist; subs[0] for agency callers). */
  home: string;
}

export function callersOf(t: TenantFixture, name = 'A'): Caller[] {
  const agencyId = t.agency.agencyId;
  const [s1, s2] = t.subs;
  const callers: Caller[] = [
    { label: `${name}'s agency user`, kind: 'agency_user', token: t.agency.token, agencyId, home: s1?.subAccountId ?? agencyId },
    { label: `${name}'s API key`, kind: 'api_key', token: t.apiKey.key, agencyId, home: s1?.subAccountId ?? agencyId },
    { label: 'the platform key', kind: 'platform', token: stack.platformApiKey, agencyId, home: s1?.subAccountId ?? agencyId },
  ];
  if (s1) {
    callers.push({ label: `${name}1's client`, kind: 'sub_account_user', token: s1.token, agencyId, home: s1.subAccountId });
    callers.push({ label: `assist into ${name}1`, kind: 'assist', token: t.assist, agencyId, home: s1.subAccountId });
  }
  if (s2)
    callers.push({ label: `${name}2's client`, kind: 'sub_account_user', token: s2.token, agencyId, home: s2.subAccountId });
  return callers;
}

/**
 * Waits until the tenant's background work is done, so its items hold still: no auto-recharge
 * webhook delivery still pending (a failing one ends by writing an email to the outbox, seconds
 * later), and no outbox item left (the notifier deletes them once their email is out).
 */
export async function settleOutbox(agencyId: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    async () =>
      !(await itemsMentioning(agencyId)).some(
        (item) => item.kind === 'outbox' || (item.kind === 'webhook_delivery' && item.status === 'pending'),
      ),
    timeoutMs,
    `webhook deliveries and outbox items of ${agencyId} to settle`,
  );
}

/** Every item of the tenant (its agency, sub-accounts, users and keys), sorted by key. */
export const tenantItems = (t: TenantFixture) =>
  snapshotOf([t.agency.agencyId, t.agency.userId, t.apiKey.id, ...t.subs.map((s) => s.subAccountId)]);
