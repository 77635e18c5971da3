import { randomUUID } from 'node:crypto';
import { type AgencyFixture, api, signUpAgency } from './api';
import { createSubAccountOnly, expectStatus, patchSub, topUp } from './ledger';
import { stack } from './stack';

/** An Agency-plan agency with a pool, a reselling sub-account and a wallet of `wallet` credits. */
export async function rechargeSetup(opts: { pool?: number; wallet?: number } = {}) {
  const agency: AgencyFixture = await signUpAgency('agency');
  const sub = await createSubAccountOnly(agency.token);
  expectStatus(await patchSub(agency.token, sub, { creditMode: 'reselling' }), 200, 'reselling');
  expectStatus(await topUp(agency.agencyId, opts.pool ?? 10_000), 201, 'top-up');
  if (opts.wallet) expectStatus(await grantWith(agency.token, sub, opts.wallet), 201, 'grant');
  return { agency, sub };
}

export function grantWith(token: string, sub: string, credits: number, extra: Record<string, unknown> = {}, clock?: string) {
  return api('POST', `/v1/sub-accounts/${sub}/credits/grants`, {
    token,
    headers: { 'idempotency-key': randomUUID() },
    body: { credits, ...extra },
    ...(clock && { clock }),
  });
}

export function debit(sub: string, quantity: number, clock?: string) {
  return api('POST', `/v1/accounts/${sub}/usage`, {
    token: stack.platformApiKey,
    headers: { 'idempotency-key': randomUUID() },
    body: { type: 'ai_response', quantity },
    ...(clock && { clock }),
  });
}

export async function requestsOf(token: string, query = '') {
  const res = await api('GET', `/v1/reselling/recharge-requests${query}`, { token });
  expectStatus(res, 200, 'recharge requests');
  return res.body.items as Array<Record<string, any>>;
}

export async function deliveriesOf(token: string, query = '') {
  const res = await api('GET', `/v1/reselling/webhook-deliveries${query}`, { token });
  expectStatus(res, 200, 'webhook deliveries');
  return res.body.items as Array<Record<string, any>>;
}

export async function saveEndpoint(token: string, url: string) {
  return expectStatus(await api('PUT', '/v1/reselling/auto-recharge-webhook', { token, body: { url } }), 200, 'save endpoint');
}
