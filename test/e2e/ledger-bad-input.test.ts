/**
 * Refused money-moving calls move nothing. Each case below sends one bad request (bad body,
 * missing key, closed or foreign account, wrong target, wrong mode, plan limits, not enough
 * credits) and proves both the exact error and, read from the table, that the agency's pool,
 * wallets, ledger entries (its `LEDGER#<agencyId>#<nn>` shards) and usage counters are unchanged.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { newId } from '#core/ids';
import { type AgencyFixture, type ApiResponse, api, assistToken, signUpAgency } from '../support/api';
import { chargeUsage, createSubAccountOnly, expectStatus, grant, ledgerSnapshot, patchSub, topUp } from '../support/ledger';
import { stack } from '../support/stack';

let agency: AgencyFixture;
let manualSub: string;
let resellingSub: string;
let closedSub: string;
let limitedSub: string;
let other: AgencyFixture;
let otherSub: string;
let otherAssist: string;
let pro: AgencyFixture;
let proSub: string;

beforeAll(async () => {
  [agency, other, pro] = await Promise.all([signUpAgency('agency'), signUpAgency('agency'), signUpAgency('pro')]);
  [manualSub, resellingSub, closedSub, limitedSub, otherSub, proSub] = await Promise.all([
    createSubAccountOnly(agency.token),
    createSubAccountOnly(agency.token),
    createSubAccountOnly(agency.token),
    createSubAccountOnly(agency.token),
    createSubAccountOnly(other.token),
    createSubAccountOnly(pro.token),
  ]);
  otherAssist = await assistToken(other.token, otherSub);
  expectStatus(await topUp(agency.agencyId, 500), 201, 'top-up');
  expectStatus(await topUp(other.agencyId, 500), 201, 'top-up other');
  expectStatus(await topUp(pro.agencyId, 500), 201, 'top-up pro');
  expectStatus(await patchSub(agency.token, resellingSub, { creditMode: 'reselling' }), 200, 'reselling');
  expectStatus(await grant(agency.token, resellingSub, 20), 201, 'grant');
  expectStatus(await patchSub(agency.token, limitedSub, { monthlyCreditLimit: 10 }), 200, 'limit');
  // The closed account was charged while open, so the debit path has seen it active before.
  expectStatus(await chargeUsage(closedSub, { type: 'ai_response', quantity: 1 }), 201, 'charge before close');
  expectStatus(await api('DELETE', `/v1/sub-accounts/${closedSub}`, { token: agency.token }), 204, 'close');
});

const usage =
  (accountId: () => string, body: unknown, opts: { key?: string | null; token?: () => string } = {}) =>
  () =>
    opts.key === null
      ? api('POST', `/v1/accounts/${accountId()}/usage`, { token: opts.token?.() ?? stack.platformApiKey, body })
      : chargeUsage(accountId(), body, { key: opts.key, token: opts.token?.() });

interface Case {
  send: () => Promise<ApiResponse>;
  status: number;
  code: string;
  /** For 400s: the field the problem must name. */
  field?: string;
}

const valid = { type: 'ai_response', quantity: 1 };

const cases: Record<string, Case> = {
  'quantity 0': {
    send: usage(() => manualSub, { ...valid, quantity: 0 }),
    status: 400,
    code: 'invalid_request',
    field: 'quantity',
  },
  'quantity -1': {
    send: usage(() => manualSub, { ...valid, quantity: -1 }),
    status: 400,
    code: 'invalid_request',
    field: 'quantity',
  },
  'quantity 1.5': {
    send: usage(() => manualSub, { ...valid, quantity: 1.5 }),
    status: 400,
    code: 'invalid_request',
    field: 'quantity',
  },
  'quantity 1000001': {
    send: usage(() => manualSub, { ...valid, quantity: 1_000_001 }),
    status: 400,
    code: 'invalid_request',
    field: 'quantity',
  },
  'quantity "10"': {
    send: usage(() => manualSub, { ...valid, quantity: '10' }),
    status: 400,
    code: 'invalid_request',
    field: 'quantity',
  },
  'quantity null': {
    send: usage(() => manualSub, { ...valid, quantity: null }),
    status: 400,
    code: 'invalid_request',
    field: 'quantity',
  },
  'quantity missing': {
    send: usage(() => manualSub, { type: 'ai_response' }),
    status: 400,
    code: 'invalid_request',
    field: 'quantity',
  },
  'unknown type': {
    send: usage(() => manualSub, { ...valid, type: 'sms_message' }),
    status: 400,
    code: 'invalid_request',
    field: 'type',
  },
  'unknown field': {
    send: usage(() => manualSub, { ...valid, credits: 5 }),
    status: 400,
    code: 'invalid_request',
    field: 'credits',
  },
  'a JSON array body': {
    send: () =>
      api('POST', `/v1/accounts/${manualSub}/usage`, {
        token: stack.platformApiKey,
        headers: { 'idempotency-key': 'arr' },
        rawBody: '[1]',
      }),
    status: 400,
    code: 'invalid_request',
    field: 'body',
  },
  'missing Idempotency-Key': { send: usage(() => manualSub, valid, { key: null }), status: 400, code: 'idempotency_key_missing' },
  'Idempotency-Key of 256 chars': {
    send: usage(() => manualSub, valid, { key: 'k'.repeat(256) }),
    status: 400,
    code: 'idempotency_key_missing',
  },
  'usage on a closed sub-account': { send: usage(() => closedSub, valid), status: 409, code: 'account_closed' },
  'usage from an assist token (only the platform meters usage)': {
    send: usage(() => manualSub, valid, { token: () => otherAssist }),
    status: 403,
    code: 'forbidden',
  },
  'usage on an unknown account': { send: usage(() => newId('subAccount'), valid), status: 404, code: 'not_found' },
  'usage over the pool balance': {
    send: usage(() => manualSub, { ...valid, quantity: 501 }),
    status: 402,
    code: 'insufficient_credits',
  },
  'usage over the wallet balance': {
    send: usage(() => resellingSub, { ...valid, quantity: 21 }),
    status: 402,
    code: 'insufficient_credits',
  },
  'usage over the monthly limit': {
    send: usage(() => limitedSub, { ...valid, quantity: 11 }),
    status: 402,
    code: 'credit_limit_reached',
  },
  'top-up for a sub-account id': { send: () => topUp(manualSub, 100), status: 404, code: 'not_found' },
  'top-up for an unknown agency': { send: () => topUp(newId('agency'), 100), status: 404, code: 'not_found' },
  'top-up of 0 credits': { send: () => topUp(agency.agencyId, 0), status: 400, code: 'invalid_request', field: 'credits' },
  'top-up without a reference': {
    send: () =>
      api('POST', `/v1/admin/agencies/${agency.agencyId}/credits`, {
        token: stack.platformApiKey,
        headers: { 'idempotency-key': 'no-ref' },
        body: { credits: 5 },
      }),
    status: 400,
    code: 'invalid_request',
    field: 'reference',
  },
  'grant to a manual-mode sub-account': {
    send: () => grant(agency.token, manualSub, 10),
    status: 409,
    code: 'wrong_credit_mode',
  },
  'grant to a closed sub-account': { send: () => grant(agency.token, closedSub, 10), status: 409, code: 'account_closed' },
  "grant to another tenant's sub-account": { send: () => grant(agency.token, otherSub, 10), status: 404, code: 'not_found' },
  'grant of 1.5 credits': {
    send: () => grant(agency.token, resellingSub, 1.5),
    status: 400,
    code: 'invalid_request',
    field: 'credits',
  },
  "switching creditMode to 'reselling' on a 'pro' agency": {
    send: () => patchSub(pro.token, proSub, { creditMode: 'reselling' }),
    status: 403,
    code: 'feature_not_available',
    field: 'creditMode',
  },
};

describe('refused credit calls charge nothing', () => {
  // For each case: the documented error, and an unchanged ledger for every agency involved.
  it.each(Object.entries(cases))('%s', async (_label, c) => {
    const watched = [
      [agency.agencyId, [manualSub, resellingSub, closedSub, limitedSub]],
      [other.agencyId, [otherSub]],
      [pro.agencyId, [proSub]],
    ] as const;
    const before = await Promise.all(watched.map(([id, subs]) => ledgerSnapshot(id, [...subs])));

    const res = await c.send();
    expect(res.status, res.text).toBe(c.status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe(c.code);
    if (c.field) expect(res.body.errors?.map((e: { field: string }) => e.field)).toContain(c.field);

    const after = await Promise.all(watched.map(([id, subs]) => ledgerSnapshot(id, [...subs])));
    expect(after).toEqual(before);
  });

  // Proves the snapshot is sensitive: a valid call right after does move credits (positive control).
  it('still charges a valid request afterwards', async () => {
    const before = await ledgerSnapshot(agency.agencyId);
    expect((await chargeUsage(manualSub, valid)).status).toBe(201);
    const after = await ledgerSnapshot(agency.agencyId);
    expect({ ...after, items: [] }).toEqual({
      ...before,
      items: [],
      pool: before.pool - 1,
      entries: before.entries + 1,
      usageTotal: before.usageTotal + 1,
    });
    expect(after.items).not.toEqual(before.items);
  });

  // Proves the refused plan change left the pro agency's sub-account in manual mode.
  it("keeps the 'pro' sub-account in manual mode", async () => {
    const sub = await api('GET', `/v1/sub-accounts/${proSub}`, { token: pro.token });
    expect(sub.body.subAccount.creditMode).toBe('manual');
  });
});
