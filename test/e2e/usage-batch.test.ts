/**
 * `POST /v1/usage/batch` over HTTP, through the usage function as the gateway runs it: each
 * event is judged as a single usage call with its key would be (201 + entry, or that call's
 * problem), in the order sent; replays give the first results and write nothing; a key first
 * used on the single route replays in a batch; a malformed body (or event) is a 400 naming the
 * field, with nothing charged; only the platform key may call it; balances move by exactly the
 * events answered 201. Every response is also held to the OpenAPI document (support/api.ts).
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { newId } from '#core/ids';
import { type AgencyFixture, type ApiResponse, api, createSubAccount, signUpAgency, uniq } from '../support/api';
import {
  chargeUsage,
  createSubAccountOnly,
  expectStatus,
  grant,
  ledgerEntries,
  ledgerSnapshot,
  patchSub,
  poolBalance,
  sumFor,
  topUp,
  walletBalance,
} from '../support/ledger';
import { pipelineIdle } from '../support/pipeline';
import { stack } from '../support/stack';
import { snapshotOf } from '../support/table';

/** Every money move at this instant: one month for the limit's meter, whenever the suite runs. */
const AT = '2026-05-15T12:00:00.000Z';

let agency: AgencyFixture;
let manual: string;
let limited: string;
let reseller: string;
let closed: string;
let clientToken: string;
let apiKey: string;
const subs = () => [manual, limited, reseller, closed];

beforeAll(async () => {
  agency = await signUpAgency('agency');
  const client = await createSubAccount(agency.token);
  manual = client.subAccountId;
  clientToken = client.token;
  [limited, reseller, closed] = await Promise.all([
    createSubAccountOnly(agency.token),
    createSubAccountOnly(agency.token),
    createSubAccountOnly(agency.token),
  ]);
  expectStatus(await topUp(agency.agencyId, 3_000, { clock: AT }), 201, 'top-up');
  expectStatus(await patchSub(agency.token, limited, { monthlyCreditLimit: 10 }), 200, 'limit');
  expectStatus(await patchSub(agency.token, reseller, { creditMode: 'reselling' }), 200, 'reselling');
  expectStatus(await grant(agency.token, reseller, 5), 201, 'grant');
  expectStatus(await api('DELETE', `/v1/sub-accounts/${closed}`, { token: agency.token }), 204, 'close');
  const key = await api('POST', '/v1/api-keys', { token: agency.token, body: { name: 'batch' } });
  apiKey = expectStatus(key, 201, 'API key').body.key;
}, 120_000);

interface Event {
  accountId: string;
  type: 'ai_response' | 'campaign_message';
  quantity: number;
  contactId?: string;
  campaignId?: string;
  conversationId?: string;
  idempotencyKey: string;
}

const event = (accountId: string, quantity: number, extra: Partial<Event> = {}): Event => ({
  accountId,
  type: 'ai_response',
  quantity,
  idempotencyKey: uniq('evt'),
  ...extra,
});

const batch = (body: unknown, token = stack.platformApiKey): Promise<ApiResponse> =>
  api('POST', '/v1/usage/batch', { token, body, clock: AT });

/** What a test compares to prove nothing was written: the ledger in brief and deep, and every item of the tenant. */
async function everything() {
  const ledger = await ledgerSnapshot(agency.agencyId, subs());
  return { ledger, items: await snapshotOf([agency.agencyId, ...subs()]) };
}

const statuses = (res: ApiResponse) => res.body.results.map((r: { status: number }) => r.status);

describe('a mixed batch', () => {
  let events: Event[];
  let first: ApiResponse;
  let before: { pool: number; wallet: number };

  beforeAll(async () => {
    // A key the single route used first, for the manual sub-account, with quantity 1.
    const reused = uniq('reused');
    expectStatus(await chargeUsage(manual, { type: 'ai_response', quantity: 1 }, { key: reused, clock: AT }), 201, 'single');
    before = { pool: await poolBalance(agency.agencyId), wallet: await walletBalance(reseller) };
    events = [
      event(manual, 3, { campaignId: 'cmp-spring', contactId: 'c-1' }), // 201
      event(limited, 4), // 201: 4 of its 10
      event(limited, 7), // 402 credit_limit_reached: 4 + 7 > 10
      event(reseller, 6), // 402 insufficient_credits: the wallet holds 5
      event(newId('subAccount'), 1), // 404: no such account
      event('acct-not-an-id', 1), // 404: no account has that shape
      event(manual, 2, { idempotencyKey: reused }), // 409 idempotency_key_reused: that key charged 1 credit
      event(closed, 1), // 409 account_closed
      event(agency.agencyId, 2, { type: 'campaign_message' }), // 201: the agency's own usage
      event(reseller, 5), // 201: the whole wallet
      event(manual, 5_000), // 402 insufficient_credits: the pool holds less
      event(limited, 6), // 201: 4 + 6 = 10, the limit exactly
    ];
    first = await batch({ events });
  });

  it('answers 200 with one result per event, in order, each as a single call would', () => {
    expect(first.status, first.text).toBe(200);
    expect(first.body.results.map((r: { idempotencyKey: string }) => r.idempotencyKey)).toEqual(
      events.map((e) => e.idempotencyKey),
    );
    expect(statuses(first)).toEqual([201, 201, 402, 402, 404, 404, 409, 409, 201, 201, 402, 201]);
    const codes = first.body.results.map((r: { problem?: { code: string } }) => r.problem?.code ?? null);
    expect(codes).toEqual([
      null,
      null,
      'credit_limit_reached',
      'insufficient_credits',
      'not_found',
      'not_found',
      'idempotency_key_reused',
      'account_closed',
      null,
      null,
      'insufficient_credits',
      null,
    ]);
    for (const [i, r] of (first.body.results as Array<{ status: number; problem?: { status: number } }>).entries()) {
      if (r.problem) expect([i, r.problem.status]).toEqual([i, r.status]);
    }
  });

  it('gives each 201 the entry a single call gives, for its own account and fields', () => {
    const [e0] = first.body.results;
    expect(e0.entry).toMatchObject({
      type: 'ai_response',
      credits: -3,
      balanceType: 'pool',
      accountId: manual,
      subAccountId: manual,
      campaignId: 'cmp-spring',
      contactId: 'c-1',
      conversationId: null,
      actor: { type: 'platform' },
    });
    expect(first.body.results[8].entry).toMatchObject({ type: 'campaign_message', credits: -2, subAccountId: null });
    expect(first.body.results[9].entry).toMatchObject({ credits: -5, balanceType: 'wallet', accountId: reseller });
  });

  it('answers a refused event with the problem the single route answers for it', async () => {
    const single = await chargeUsage(closed, { type: 'ai_response', quantity: 1 }, { clock: AT });
    expect(single.status).toBe(409);
    expect(first.body.results[7].problem).toEqual(single.body);
  });

  it('moves each balance by exactly the events answered 201, each an entry', async () => {
    expect(await poolBalance(agency.agencyId)).toBe(before.pool - (3 + 4 + 2 + 6));
    expect(await walletBalance(reseller)).toBe(before.wallet - 5);
    const entries = await ledgerEntries(agency.agencyId);
    const keys = new Set(entries.map((e) => e.idempotencyKey));
    events.forEach((e, i) => expect([i, keys.has(e.idempotencyKey)]).toEqual([i, statuses(first)[i] === 201 || i === 6]));
    expect(sumFor(entries, { pool: true })).toBe(await poolBalance(agency.agencyId));
    expect(sumFor(entries, { wallet: reseller })).toBe(await walletBalance(reseller));
  });

  it('replayed whole, gives the same results and writes nothing', async () => {
    await pipelineIdle();
    const was = await everything();
    const again = await batch({ events });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(await everything()).toEqual(was);
  });
});

describe('idempotency keys shared with the single route', () => {
  it('replays in a batch the entry a single call made with the same account, key and body', async () => {
    const key = randomUUID();
    const body = { type: 'campaign_message' as const, quantity: 2, campaignId: 'cmp-x', conversationId: 'conv-1' };
    const single = expectStatus(await chargeUsage(manual, body, { key, clock: AT }), 201, 'single');
    await pipelineIdle();
    const was = await everything();
    const res = await batch({ events: [{ accountId: manual, ...body, idempotencyKey: key }] });
    expect(res.body.results).toEqual([{ idempotencyKey: key, status: 201, entry: single.body.entry }]);
    expect(await everything()).toEqual(was);
  });

  it('replays on the single route the entry a batch made', async () => {
    const e = event(manual, 1, { contactId: 'c-9' });
    const res = await batch({ events: [e] });
    const { accountId, idempotencyKey, ...body } = e;
    const single = await chargeUsage(accountId, body, { key: idempotencyKey, clock: AT });
    expect([single.status, single.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
    expect(single.body.entry).toEqual(res.body.results[0].entry);
  });

  it('scopes a key by account: the same key for two accounts is two events', async () => {
    const key = uniq('shared');
    const res = await batch({
      events: [event(manual, 1, { idempotencyKey: key }), event(agency.agencyId, 1, { idempotencyKey: key })],
    });
    expect(statuses(res)).toEqual([201, 201]);
    expect(res.body.results[0].entry.id).not.toBe(res.body.results[1].entry.id);
  });
});

describe('a malformed body is refused whole, with nothing charged', () => {
  const valid = () => event(manual, 1);
  const cases: Array<[string, () => unknown, string]> = [
    ['a JSON array', () => [valid()], 'body'],
    ['no events', () => ({}), 'events'],
    ['events not a list', () => ({ events: valid() }), 'events'],
    ['an empty list', () => ({ events: [] }), 'events'],
    ['1,001 events', () => ({ events: Array.from({ length: 1_001 }, valid) }), 'events'],
    ['an unknown field', () => ({ events: [valid()], dryRun: true }), 'dryRun'],
    [
      'quantity -1 in event 7',
      () => ({ events: [...Array.from({ length: 7 }, valid), event(manual, -1), valid()] }),
      'events.7.quantity',
    ],
    [
      'an event without its key',
      () => ({ events: [valid(), { ...valid(), idempotencyKey: undefined }] }),
      'events.1.idempotencyKey',
    ],
    [
      'a key of 256 characters',
      () => ({ events: [event(manual, 1, { idempotencyKey: 'k'.repeat(256) })] }),
      'events.0.idempotencyKey',
    ],
    ['an event that is not an object', () => ({ events: [valid(), 'usage'] }), 'events.1'],
    ['an unknown field in an event', () => ({ events: [{ ...valid(), credits: 5 }] }), 'events.0.credits'],
    [
      'one account’s key twice',
      () => {
        const e = valid();
        return { events: [e, valid(), valid(), { ...e, quantity: 2 }] };
      },
      'events.3.idempotencyKey',
    ],
  ];

  it.each(cases)('%s → 400', async (_label, body, field) => {
    const was = await everything();
    const res = await batch(body());
    expect([res.status, res.body.code], res.text).toEqual([400, 'invalid_request']);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await everything()).toEqual(was);
  });

  it('takes exactly 1,000 events, in a body past the 256 KiB other routes take', async () => {
    const contactId = 'c'.repeat(200);
    const events = Array.from({ length: 1_000 }, () => event(agency.agencyId, 1, { contactId }));
    expect(JSON.stringify({ events }).length).toBeGreaterThan(256 * 1024);
    const res = await batch({ events });
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expect(new Set(statuses(res))).toEqual(new Set([201]));
  });
});

describe('only the platform meters usage', () => {
  it.each([
    ['an agency user', () => agency.token],
    ['an agency API key', () => apiKey],
    ['a client user', () => clientToken],
  ])('%s → 403, nothing charged', async (_label, token) => {
    const was = await everything();
    const res = await batch({ events: [event(manual, 1)] }, token());
    expect([res.status, res.body.code]).toEqual([403, 'forbidden']);
    expect(await everything()).toEqual(was);
  });
});
