/**
 * The rules around reselling: the platform minimum at save and again at purchase (raised after
 * the pricing was saved), Stripe's minimum charge, bounded credit counts, readiness (409),
 * credit modes, the same Idempotency-Key giving the same purchase and ONE Checkout Session,
 * and who may see what. Every refusal is problem JSON with its code and writes nothing.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handler as resellingHandler } from '../../functions/http/reselling';
import { api, createSubAccount, type SubAccountFixture, signUpAgency, waitFor } from '../support/api';
import { invoke } from '../support/invoke';
import { expectStatus } from '../support/ledger';
import {
  buy,
  checkoutSessionRequests,
  control,
  DEFAULT_PRICING,
  type ReadyAgency,
  readyAgency,
  resellingClient,
} from '../support/reselling';
import { getRaw, itemsMentioning } from '../support/table';

let seller: ReadyAgency;
let client: SubAccountFixture;

beforeAll(async () => {
  seller = await readyAgency();
  client = await resellingClient(seller.agency.token);
}, 60_000);

const settingsOf = async (token: string) => (await api('GET', '/v1/reselling/settings', { token })).body;
const purchasesOf = async (c: SubAccountFixture) =>
  (await api('GET', `/v1/accounts/${c.subAccountId}/credit-purchases`, { token: c.token })).body.items as unknown[];

describe('the platform minimum', () => {
  it('is enforced when pricing is saved (422 price_below_minimum with the minimum), and nothing is written', async () => {
    const before = await settingsOf(seller.agency.token);
    const cases: Array<[string, unknown, string, string]> = [
      ['a per-credit price below it', { ...DEFAULT_PRICING, perCreditPrice: '0.9999' }, 'price_below_minimum', 'perCreditPrice'],
      [
        'a package cheaper per credit',
        { ...DEFAULT_PRICING, packages: [{ name: 'Bulk', credits: 1000, price: 999 }] },
        'price_below_minimum',
        'packages.0.price',
      ],
      [
        "a package below Stripe's minimum charge",
        { ...DEFAULT_PRICING, packages: [{ name: 'Tiny', credits: 2, price: 30 }] },
        'amount_too_small',
        'packages.0.price',
      ],
    ];
    for (const [label, body, code, field] of cases) {
      const res = await api('PUT', '/v1/reselling/pricing', { token: seller.agency.token, body });
      expect([label, res.status, res.body.code, res.body.errors?.[0]?.field]).toEqual([label, 422, code, field]);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    const below = await api('PUT', '/v1/reselling/pricing', {
      token: seller.agency.token,
      body: { ...DEFAULT_PRICING, perCreditPrice: '0.5' },
    });
    expect(below.body).toMatchObject({ minimum: '1', currency: 'usd' });
    const jpy = await api('PUT', '/v1/reselling/pricing', {
      token: seller.agency.token,
      body: { ...DEFAULT_PRICING, currency: 'jpy' },
    });
    expect([jpy.status, jpy.body.errors?.[0]?.field]).toEqual([400, 'currency']);
    expect(await settingsOf(seller.agency.token)).toEqual(before);
    // At the minimum exactly is fine (and a decimal of a cent).
    expect((await api('PUT', '/v1/reselling/pricing', { token: seller.agency.token, body: { ...DEFAULT_PRICING } })).status).toBe(
      200,
    );
  });

  describe('re-checked at purchase time, after the minimum was raised', () => {
    const name = 'RESELLING_MINIMUM_CREDIT_PRICE';
    const original = process.env[name];
    afterEach(() => {
      process.env[name] = original;
    });

    it('refuses the purchase (422 with the new minimum) and writes nothing; at the old minimum it goes through', async () => {
      const buyer = await resellingClient(seller.agency.token);
      const packageId = seller.pricing.packages[0]!.id;
      // The pricing (15¢ a credit) was saved under a 1¢ minimum; the platform now asks for 20¢.
      process.env[name] = 'usd:20,eur:1,gbp:1';
      for (const body of [{ packageId }, { credits: 10 }]) {
        const res = await invoke(resellingHandler, 'POST /v1/accounts/{accountId}/credit-purchases', {
          params: { accountId: buyer.subAccountId },
          token: buyer.token,
          headers: { 'idempotency-key': randomUUID() },
          body,
        });
        expect([res.status, res.body.code, res.body.minimum, res.body.currency]).toEqual([
          422,
          'price_below_minimum',
          '20',
          'usd',
        ]);
      }
      expect(await purchasesOf(buyer)).toEqual([]);
      expect((await itemsMentioning(buyer.subAccountId)).filter((i) => String(i.kind).startsWith('purchase'))).toEqual([]);

      process.env[name] = original ?? '';
      const ok = await invoke(resellingHandler, 'POST /v1/accounts/{accountId}/credit-purchases', {
        params: { accountId: buyer.subAccountId },
        token: buyer.token,
        headers: { 'idempotency-key': randomUUID() },
        body: { packageId },
      });
      expect(ok.status).toBe(201);
    });
  });
});

describe('what one purchase may be', () => {
  it("refuses amounts below Stripe's minimum charge, too many credits, unknown packages, both or neither", async () => {
    const cases: Array<[string, unknown, number, string, string]> = [
      ['3 credits = 45¢ < 50¢', { credits: 3 }, 422, 'amount_too_small', 'credits'],
      ['more than the most', { credits: 1_000_001 }, 400, 'invalid_request', 'credits'],
      ['an unknown package', { packageId: 'pkg_nope' }, 400, 'invalid_request', 'packageId'],
      ['both', { packageId: seller.pricing.packages[0]!.id, credits: 10 }, 400, 'invalid_request', 'credits'],
      ['neither', {}, 400, 'invalid_request', 'packageId'],
      ['zero credits', { credits: 0 }, 400, 'invalid_request', 'credits'],
      ['a fraction of a credit', { credits: 1.5 }, 400, 'invalid_request', 'credits'],
    ];
    for (const [label, body, status, code, field] of cases) {
      const res = await buy(client.token, client.subAccountId, body as Record<string, unknown>);
      expect([label, res.status, res.body.code, res.body.errors?.[0]?.field]).toEqual([label, status, code, field]);
    }
    const tooSmall = await buy(client.token, client.subAccountId, { credits: 3 });
    expect(tooSmall.body).toMatchObject({ status: 422, code: 'amount_too_small', minimum: '50', currency: 'usd' });
    expect(await purchasesOf(client)).toEqual([]);
    // 4 credits (60¢) is the least the offers allow, and goes through.
    expect((await buy(client.token, client.subAccountId, { credits: 4 })).status).toBe(201);
  });
});

describe('the same Idempotency-Key', () => {
  it('gives the same purchase and ONE Checkout Session, however many times and at once; another body → 409', async () => {
    const buyer = await resellingClient(seller.agency.token);
    const key = `same-${randomUUID()}`;
    const body = { credits: 12 };
    const before = await checkoutSessionRequests(seller.stripeAccountId);
    const inProcess = () =>
      invoke(resellingHandler, 'POST /v1/accounts/{accountId}/credit-purchases', {
        params: { accountId: buyer.subAccountId },
        token: buyer.token,
        headers: { 'idempotency-key': key },
        body,
      });
    // Five at once in this container.
    const answers = await Promise.all(Array.from({ length: 5 }, inProcess));
    for (const a of answers) expect(a.status).toBe(201);
    const ids = new Set(answers.map((a) => a.body.purchase.id));
    const sessions = new Set(answers.map((a) => a.body.purchase.checkoutSessionId));
    expect([ids.size, sessions.size]).toEqual([1, 1]);
    // Stripe created exactly one session; any other call that reached Stripe got that one replayed.
    const after = await checkoutSessionRequests(seller.stripeAccountId);
    expect(after.created - before.created).toBe(1);
    expect(after.replayed - before.replayed).toBeLessThanOrEqual(4);
    // Later retries (through the gateway, another container) are answered from the purchase itself.
    const again = await buy(buyer.token, buyer.subAccountId, body, key);
    expect([again.status, again.headers.get('idempotent-replayed'), again.body.purchase.id]).toEqual([201, 'true', [...ids][0]]);
    expect(again.body.purchase.checkoutSessionId).toBe([...sessions][0]);
    expect(await purchasesOf(buyer)).toHaveLength(1);

    const reused = await buy(buyer.token, buyer.subAccountId, { credits: 13 }, key);
    expect([reused.status, reused.body.code]).toEqual([409, 'idempotency_key_reused']);
  });
});

describe('readiness, modes and who sees what', () => {
  it('an agency that cannot sell yet answers 409 reselling_not_ready: not onboarded, or no pricing', async () => {
    const agency = await signUpAgency('agency');
    const buyer = await resellingClient(agency.token);
    const offers = () => api('GET', `/v1/accounts/${buyer.subAccountId}/credit-offers`, { token: buyer.token });
    expect([(await offers()).status, (await offers()).body.code]).toEqual([409, 'reselling_not_ready']);
    const connect = expectStatus(await api('POST', '/v1/reselling/stripe/connect', { token: agency.token }), 201);
    // Connecting again returns the same account, with a fresh link.
    const again = expectStatus(await api('POST', '/v1/reselling/stripe/connect', { token: agency.token }), 201);
    expect(again.body.accountId).toBe(connect.body.accountId);
    expect(again.body.onboardingUrl).not.toBe(connect.body.onboardingUrl);
    expectStatus(await api('PUT', '/v1/reselling/pricing', { token: agency.token, body: DEFAULT_PRICING }), 200);
    const notOnboarded = await offers();
    expect([notOnboarded.status, notOnboarded.body.code]).toEqual([409, 'reselling_not_ready']);
    const purchase = await buy(buyer.token, buyer.subAccountId, { credits: 10 });
    expect([purchase.status, purchase.body.code]).toEqual([409, 'reselling_not_ready']);
    expect(await purchasesOf(buyer)).toEqual([]);

    expect((await control(`/sandbox/accounts/${connect.body.accountId}/onboard`)).status).toBe(200);
    await waitFor(async () => (await offers()).status === 200);
  });

  it('manual mode: no offers (404), no purchase (409 wrong_credit_mode); its purchase history stays readable', async () => {
    const manual = await createSubAccount(seller.agency.token);
    const offers = await api('GET', `/v1/accounts/${manual.subAccountId}/credit-offers`, { token: manual.token });
    expect([offers.status, offers.body.code]).toEqual([404, 'not_found']);
    const purchase = await buy(manual.token, manual.subAccountId, { credits: 10 });
    expect([purchase.status, purchase.body.code]).toEqual([409, 'wrong_credit_mode']);
    expect(await purchasesOf(manual)).toEqual([]);
    // The agency's own account has no offers: its pool is bought at /v1/credits/purchases.
    const own = await api('GET', `/v1/accounts/${seller.agency.agencyId}/credit-offers`, { token: seller.agency.token });
    expect(own.status).toBe(404);
  });

  it("another agency's client is a 404; a client cannot read another client's offers, nor the dashboard or settings (403)", async () => {
    const other = await readyAgency();
    const stranger = await resellingClient(other.agency.token);
    const sibling = await resellingClient(seller.agency.token);
    for (const [token, label] of [
      [other.agency.token, "another agency's user"],
      [stranger.token, "another agency's client"],
      [sibling.token, 'a sibling client'],
    ] as const) {
      const offers = await api('GET', `/v1/accounts/${client.subAccountId}/credit-offers`, { token });
      const purchase = await buy(token, client.subAccountId, { credits: 10 });
      const list = await api('GET', `/v1/accounts/${client.subAccountId}/credit-purchases`, { token });
      expect([label, offers.status, purchase.status, list.status]).toEqual([label, 404, 404, 404]);
    }
    for (const path of ['/v1/reselling/dashboard', '/v1/reselling/settings']) {
      const res = await api('GET', path, { token: client.token });
      expect([path, res.status, res.body.code]).toEqual([path, 403, 'forbidden']);
    }
    // The agency acting in its client (assist) may buy for it.
    const assist = expectStatus(
      await api('POST', `/v1/sub-accounts/${client.subAccountId}/assist`, { token: seller.agency.token }),
      201,
    );
    expect((await buy(assist.body.token, client.subAccountId, { credits: 10 })).status).toBe(201);
  });

  it('an agency without the reselling feature cannot connect, price or read the dashboard (403 feature_not_enabled)', async () => {
    const starter = await signUpAgency('starter');
    for (const [method, path, body] of [
      ['POST', '/v1/reselling/stripe/connect', undefined],
      ['PUT', '/v1/reselling/pricing', DEFAULT_PRICING],
      ['GET', '/v1/reselling/dashboard', undefined],
      ['GET', '/v1/reselling/settings', undefined],
    ] as const) {
      const res = await api(method, path, { token: starter.token, body });
      expect([path, res.status, res.body.code]).toEqual([path, 403, 'feature_not_enabled']);
    }
    expect(await getRaw(`ACCOUNT#${starter.agencyId}`, 'RESELLING')).toBeUndefined();
  });
});
