/**
 * Positive controls for EVERY write route of the route table (POST, PUT, PATCH, DELETE; public
 * ones included): each principal kind the route allows calls it with its OWN ids and the body
 * the isolation matrix sends (isolation.test.ts run(), with the fields a success needs on top),
 * and must get exactly the success status the route declares; then the write is read back
 * through the API (from the table where no route shows it). So the matrix's 401/403/404 for a foreign id are the foreign id's doing, not
 * a route that refuses everyone, and a route that answers its status without doing its work
 * fails here. The route table is the list: a write route without a control fails to compile
 * (`controls` is keyed by every write route) and fails the run.
 *
 * And each write leaves its audit record (issue 23): exactly one new record in the agency's
 * audit partition per call, of the action `audits` names for the route, by the caller (the
 * user, the API key, the platform, or the agency user behind an assist session and the
 * sub-account assisted). `audits` is keyed by every write route too: a route is either audited
 * or on the exemption list there, with the reason (ledger entries are their own audit record).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrincipalKind } from '#domain/auth/principal';
import type { Route, RouteDef } from '#http/routes';
import {
  type ApiResponse,
  api,
  assistToken,
  createSubAccount,
  emailsTo,
  signUpAgency,
  tokenFromEmail,
  uniq,
  uniqueEmail,
  waitFor,
} from '../support/api';
import { saveCard } from '../support/auto-top-up';
import { createSubAccountOnly, expectStatus, patchSub, topUp } from '../support/ledger';
import { deliveriesOf, grantWith, saveEndpoint } from '../support/recharge';
import { buy, makeReady, type ReadyAgency, sessionEvent, signature } from '../support/reselling';
import { fillPath, fixtureBodies, keyOf, pathParams, routeTable, sampleBody, sampleQuery, withQuery } from '../support/routes';
import { auditRecordsOf, getRaw } from '../support/table';
import { type Caller, callersOf, createTenant, type TenantFixture } from '../support/tenants';
import { startReceiver, verify } from '../support/webhook-receiver';

/** `METHOD /path` of each write route (one per route, not every method × every path). */
type WriteRouteKey = Route extends infer R
  ? R extends { method: infer M extends string; path: infer P extends string }
    ? Exclude<`${M} ${P}`, `GET ${string}`>
    : never
  : never;

/** What one control sends beyond the caller's own ids and the matrix's body, and how it reads the write back. */
interface Call {
  /** Path parameters that are not the caller's home account (objects, made fresh where the call uses them up). */
  params?: Record<string, string>;
  /** Instead of the caller's token: a fresh one, for calls that end it. */
  token?: string;
  /** Over the matrix's body (`undefined` drops a field). */
  body?: Record<string, unknown>;
  /** The exact bytes, for the signed Stripe events. */
  rawBody?: string;
  headers?: Record<string, string>;
  /** The agency whose audit log gets the record, when not the caller's (a public route's, another agency's). */
  auditAgency?: string | ((res: ApiResponse) => string);
  /** Reads the write back; fails when it did not happen. */
  check(res: ApiResponse): Promise<void>;
}
type Control = (caller: Caller | undefined) => Promise<Call>;

let A: TenantFixture;
let ready: ReadyAgency;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const home = () => A.subs[0]!.subAccountId;

beforeAll(async () => {
  [A, receiver] = await Promise.all([createTenant(2), startReceiver()]);
  expectStatus(await topUp(A.agency.agencyId, 100_000), 201, 'top-up');
  ready = await makeReady(A.agency);
  // Home is a reselling sub-account with a wallet: it can buy credits, take grants and be charged.
  expectStatus(await patchSub(A.agency.token, home(), { creditMode: 'reselling' }), 200, 'reselling');
  expectStatus(await grantWith(A.agency.token, home(), 1_000), 201, 'wallet');
}, 180_000);

afterAll(() => receiver?.close());

// ---------------------------------------------------------------------------------------------
// Reading things back.

const password = () => `pw-${randomBytes(8).toString('hex')}-control`;
const me = (token: string) => api('GET', '/v1/me', { token });
const get = async (path: string, token = A.agency.token) => expectStatus(await api('GET', path, { token }), 200, path).body;
const walletOf = async () => (await get(`/v1/accounts/${home()}/wallet`)).balance as number;
const poolOf = async () => (await get('/v1/credits/balance')).balance as number;
const settings = () => get('/v1/reselling/settings');
/** The agency as stored: no route reads back its plan or whether its email is verified. */
const agencyItem = (agencyId: string) => getRaw(`ACCOUNT#${agencyId}`, 'ACCOUNT');

async function login(email: string, pw: string): Promise<string> {
  return expectStatus(await api('POST', '/v1/auth/login', { body: { email, password: pw } }), 200, 'login').body.token;
}

/** A session that may be ended: a new one of the caller's kind. */
async function freshToken(kind: PrincipalKind): Promise<string> {
  if (kind === 'agency_user') return login(A.agency.email, A.agency.password);
  if (kind === 'sub_account_user') return login(A.subs[0]!.email, A.subs[0]!.password);
  if (kind === 'assist') return assistToken(A.agency.token, home());
  throw new Error(`no fresh session for ${kind}`);
}

/** A user of the caller's kind whose password may change (not the tenant's own). */
async function throwawayUser(kind: PrincipalKind): Promise<{ email: string; password: string; token: string }> {
  if (kind === 'agency_user') return signUpAgency('starter', { verifyEmail: false });
  if (kind === 'sub_account_user') return createSubAccount(A.agency.token);
  throw new Error(`no throwaway user of kind ${kind}`);
}

const newCampaign = async (accountId: string) =>
  expectStatus(
    await api('POST', `/v1/accounts/${accountId}/campaigns`, { token: A.agency.token, body: { name: uniq('Own') } }),
    201,
    'campaign',
  ).body.campaign.id as string;

const newApiKey = async () =>
  expectStatus(await api('POST', '/v1/api-keys', { token: A.agency.token, body: { name: uniq('own') } }), 201, 'API key').body;

const unauthenticated = async (token: string) => expect((await me(token)).status, 'the token no longer works').toBe(401);

/** A webhook delivery of the agency's that failed (only a failed one may be retried): port 9 is closed. */
async function failedDelivery(): Promise<{ id: string; attempts: number }> {
  await saveEndpoint(A.agency.token, 'http://127.0.0.1:9/recharge');
  const sent = expectStatus(
    await api('POST', '/v1/reselling/auto-recharge-webhook/test', { token: A.agency.token }),
    202,
    'test',
  );
  return waitFor(
    async () => (await deliveriesOf(A.agency.token)).find((d) => d.id === sent.body.deliveryId && d.status === 'failed'),
    30_000,
    'a failed delivery',
  ) as Promise<{ id: string; attempts: number }>;
}

let priceStep = 0;

// ---------------------------------------------------------------------------------------------
// One control per write route.

const controls: Record<WriteRouteKey, Control> = {
  'POST /v1/agencies': async () => ({
    body: { agencyName: uniq('Agency'), email: uniqueEmail('owner'), password: password() },
    auditAgency: (res) => res.body.agency.id,
    check: async (res) => expect((await me(res.body.token)).body.principal.agencyId).toBe(res.body.agency.id),
  }),
  'POST /v1/auth/login': async () => ({
    body: { email: A.agency.email, password: A.agency.password },
    check: async (res) => expect((await me(res.body.token)).body.principal.userId).toBe(A.agency.userId),
  }),
  'POST /v1/auth/verify-email': async () => {
    const agency = await signUpAgency('starter', { verifyEmail: false });
    return {
      body: { token: await tokenFromEmail(agency.email, /^Confirm your email/) },
      auditAgency: agency.agencyId,
      check: async () => expect((await agencyItem(agency.agencyId))?.emailVerified).toBe(true),
    };
  },
  'POST /v1/auth/password-reset': async () => {
    const agency = await signUpAgency('starter', { verifyEmail: false });
    return {
      body: { email: agency.email },
      auditAgency: agency.agencyId,
      check: async () => void (await tokenFromEmail(agency.email, /^Reset your/)),
    };
  },
  'POST /v1/auth/password-reset/confirm': async () => {
    const agency = await signUpAgency('starter', { verifyEmail: false });
    expectStatus(await api('POST', '/v1/auth/password-reset', { body: { email: agency.email } }), 202, 'reset');
    const newPassword = password();
    return {
      body: { token: await tokenFromEmail(agency.email, /^Reset your/), newPassword },
      auditAgency: agency.agencyId,
      check: async () => {
        await login(agency.email, newPassword);
        await unauthenticated(agency.token);
      },
    };
  },
  'POST /v1/auth/password': async (caller) => {
    const user = await throwawayUser(caller!.kind);
    const newPassword = password();
    return {
      token: user.token,
      body: { currentPassword: user.password, newPassword },
      auditAgency: 'agencyId' in user ? (user.agencyId as string) : A.agency.agencyId,
      check: async (res) => {
        expect((await me(res.body.token)).status).toBe(200);
        await login(user.email, newPassword);
        await unauthenticated(user.token);
      },
    };
  },
  'POST /v1/auth/logout': async (caller) => {
    const token = await freshToken(caller!.kind);
    return { token, check: () => unauthenticated(token) };
  },
  'POST /v1/auth/verify-email/resend': async () => {
    const agency = await signUpAgency('starter', { verifyEmail: false });
    const confirmations = async () => (await emailsTo(agency.email)).filter((m) => /^Confirm your email/.test(m.subject)).length;
    await waitFor(async () => (await confirmations()) === 1, 15_000, 'the first confirmation email');
    return {
      token: agency.token,
      auditAgency: agency.agencyId,
      check: async () => void (await waitFor(async () => (await confirmations()) === 2, 15_000, 'a second confirmation email')),
    };
  },
  'POST /v1/api-keys': async () => ({
    check: async (res) => {
      expect((await get('/v1/api-keys')).items.map((k: { id: string }) => k.id)).toContain(res.body.id);
      expect((await api('GET', '/v1/sub-accounts', { token: res.body.key })).status, 'the new key works').toBe(200);
    },
  }),
  'DELETE /v1/api-keys/{apiKeyId}': async () => {
    const key = await newApiKey();
    return {
      params: { apiKeyId: key.id },
      check: async () => {
        expect((await get('/v1/api-keys')).items.map((k: { id: string }) => k.id)).not.toContain(key.id);
        await unauthenticated(key.key);
      },
    };
  },
  'POST /v1/sub-accounts/{subAccountId}/assist': async () => ({
    check: async (res) => expect((await me(res.body.token)).body.principal).toMatchObject({ assist: true, accountId: home() }),
  }),
  'POST /v1/assist/exit': async () => {
    const token = await freshToken('assist');
    return { token, check: () => unauthenticated(token) };
  },
  'POST /v1/sub-accounts': async () => ({
    check: async (res) =>
      expect((await get(`/v1/sub-accounts/${res.body.subAccount.id}`)).subAccount.name).toBe(res.body.subAccount.name),
  }),
  'PATCH /v1/sub-accounts/{subAccountId}': async () => {
    const name = uniq('Renamed');
    return { body: { name }, check: async () => expect((await get(`/v1/sub-accounts/${home()}`)).subAccount.name).toBe(name) };
  },
  'DELETE /v1/sub-accounts/{subAccountId}': async () => {
    const sub = await createSubAccountOnly(A.agency.token);
    return {
      params: { subAccountId: sub },
      check: async () => expect((await get(`/v1/sub-accounts/${sub}`)).subAccount.status).toBe('closed'),
    };
  },
  'POST /v1/sub-accounts/{subAccountId}/reopen': async () => {
    const sub = await createSubAccountOnly(A.agency.token);
    expectStatus(await api('DELETE', `/v1/sub-accounts/${sub}`, { token: A.agency.token }), 204, 'close');
    return {
      params: { subAccountId: sub },
      check: async () => expect((await get(`/v1/sub-accounts/${sub}`)).subAccount.status).toBe('active'),
    };
  },
  'POST /v1/sub-accounts/{subAccountId}/credentials': async () => {
    const client = await createSubAccount(A.agency.token);
    return {
      params: { subAccountId: client.subAccountId },
      check: async (res) => {
        await login(res.body.email, res.body.password);
        await unauthenticated(client.token);
      },
    };
  },
  'POST /v1/accounts/{accountId}/campaigns': async () => ({
    body: { name: uniq('Control') },
    check: async (res) =>
      expect((await get(`/v1/accounts/${home()}/campaigns/${res.body.campaign.id}`)).campaign.name).toBe(res.body.campaign.name),
  }),
  'PATCH /v1/accounts/{accountId}/campaigns/{campaignId}': async () => {
    const [campaignId, name] = [await newCampaign(home()), uniq('Renamed')];
    return {
      params: { campaignId },
      body: { name },
      check: async () => expect((await get(`/v1/accounts/${home()}/campaigns/${campaignId}`)).campaign.name).toBe(name),
    };
  },
  'DELETE /v1/accounts/{accountId}/campaigns/{campaignId}': async () => {
    const campaignId = await newCampaign(home());
    return {
      params: { campaignId },
      check: async () => {
        const gone = await api('GET', `/v1/accounts/${home()}/campaigns/${campaignId}`, { token: A.agency.token });
        expect(gone.status).toBe(404);
      },
    };
  },
  'POST /v1/accounts/{accountId}/campaigns/{campaignId}/copy': async () => ({
    params: { campaignId: await newCampaign(home()) },
    check: async (res) => expect((await get(`/v1/accounts/${home()}/campaigns/${res.body.campaign.id}`)).campaign).toBeTruthy(),
  }),
  'POST /v1/accounts/{accountId}/usage': async () => {
    const before = await walletOf();
    return { check: async () => expect(await walletOf()).toBe(before - 1) };
  },
  'POST /v1/usage/batch': async () => {
    const before = await walletOf();
    const event = (n: number) => ({ accountId: home(), type: 'ai_response', quantity: n, idempotencyKey: randomUUID() });
    return {
      body: { events: [event(1), event(2)] },
      check: async (res) => {
        expect(res.body.results.map((r: { status: number }) => r.status)).toEqual([201, 201]);
        expect(await walletOf()).toBe(before - 3);
      },
    };
  },
  'POST /v1/admin/agencies/{agencyId}/credits': async () => {
    const before = await poolOf();
    return { body: { credits: 7 }, check: async () => expect(await poolOf()).toBe(before + 7) };
  },
  'POST /v1/sub-accounts/{subAccountId}/credits/grants': async () => {
    const [pool, wallet] = [await poolOf(), await walletOf()];
    return {
      body: { credits: 3 },
      check: async () => expect([await poolOf(), await walletOf()]).toEqual([pool - 3, wallet + 3]),
    };
  },
  'PATCH /v1/admin/agencies/{agencyId}': async () => {
    const agency = await signUpAgency('starter', { verifyEmail: false });
    return {
      params: { agencyId: agency.agencyId },
      body: { plan: 'pro' },
      auditAgency: agency.agencyId,
      check: async () => expect((await agencyItem(agency.agencyId))?.plan).toBe('pro'),
    };
  },
  'POST /v1/reselling/stripe/connect': async () => ({
    check: async (res) => expect((await settings()).stripe.accountId).toBe(res.body.accountId),
  }),
  'PUT /v1/reselling/pricing': async () => {
    const perCreditPrice = String(20 + priceStep++);
    return {
      body: { perCreditPrice },
      check: async () => expect((await settings()).pricing.perCreditPrice).toBe(perCreditPrice),
    };
  },
  'POST /v1/accounts/{accountId}/credit-purchases': async () => ({
    body: { packageId: undefined, credits: 10 },
    check: async (res) =>
      expect((await get(`/v1/accounts/${home()}/credit-purchases`)).items.map((p: { id: string }) => p.id)).toContain(
        res.body.purchase.id,
      ),
  }),
  'POST /v1/credits/purchases': async () => ({
    body: { packageId: 'pool_1000' },
    check: async (res) =>
      expect((await get('/v1/credits/purchases')).items.map((p: { id: string }) => p.id)).toContain(res.body.purchase.id),
  }),
  'POST /v1/webhooks/stripe/connect': async () => {
    const bought = expectStatus(await buy(A.subs[0]!.token, home(), { credits: 20 }), 201, 'purchase').body.purchase;
    const before = await walletOf();
    const payload = sessionEvent('checkout.session.completed', { ...bought, account: ready.stripeAccountId });
    return {
      rawBody: payload,
      headers: { 'stripe-signature': signature(payload, { endpoint: 'connect' }) },
      check: async () => expect(await walletOf()).toBe(before + 20),
    };
  },
  'POST /v1/webhooks/stripe': async () => {
    const bought = expectStatus(
      await api('POST', '/v1/credits/purchases', {
        token: A.agency.token,
        body: { packageId: 'pool_1000' },
        headers: { 'idempotency-key': randomUUID() },
      }),
      201,
      'pool purchase',
    ).body.purchase;
    const before = await poolOf();
    const payload = sessionEvent('checkout.session.completed', { ...bought, account: null });
    return {
      rawBody: payload,
      headers: { 'stripe-signature': signature(payload, { endpoint: 'platform' }) },
      check: async () => expect(await poolOf()).toBe(before + 1000),
    };
  },
  'POST /v1/credits/auto-top-up/payment-method': async () => ({
    check: async (res) => expect(res.body.checkoutUrl).toMatch(/\/sandbox\/pages\/checkout\/cs_/),
  }),
  'DELETE /v1/credits/auto-top-up/payment-method': async () => {
    // A card to remove (without one the call changes nothing).
    await saveCard(A.agency, 'success');
    return {
      check: async () => {
        const settings = await get('/v1/credits/auto-top-up');
        expect([settings.paymentMethod, settings.enabled]).toEqual([null, false]);
      },
    };
  },
  'PUT /v1/credits/auto-top-up': async () => {
    const threshold = 100 + priceStep++;
    return {
      body: { enabled: false, threshold, credits: 1000 },
      check: async () => expect((await get('/v1/credits/auto-top-up')).threshold).toBe(threshold),
    };
  },
  'PUT /v1/credits/alerts': async () => {
    const poolBelow = 200 + priceStep++;
    return {
      body: { poolBelow },
      check: async () => expect((await get('/v1/credits/alerts')).poolBelow).toBe(poolBelow),
    };
  },
  'PUT /v1/reselling/auto-recharge-webhook': async (caller) => {
    const url = `${receiver.url}/${caller!.kind}`;
    return { body: { url }, check: async () => expect((await get('/v1/reselling/auto-recharge-webhook')).url).toBe(url) };
  },
  'DELETE /v1/reselling/auto-recharge-webhook': async () => {
    await saveEndpoint(A.agency.token, receiver.url);
    return {
      check: async () => {
        const gone = await api('GET', '/v1/reselling/auto-recharge-webhook', { token: A.agency.token });
        expect(gone.status).toBe(404);
      },
    };
  },
  'POST /v1/reselling/auto-recharge-webhook/rotate-secret': async () => {
    const old = (await saveEndpoint(A.agency.token, `${receiver.url}/rotate-${randomUUID()}`)).body.secret as string;
    return {
      check: async (res) => {
        expect(res.body.secret).not.toBe(old);
        // The next delivery is signed with the new secret.
        const hit = await sendTest();
        expect(() => verify(hit, res.body.secret)).not.toThrow();
      },
    };
  },
  'POST /v1/reselling/auto-recharge-webhook/test': async () => {
    await saveEndpoint(A.agency.token, receiver.url);
    const hits = receiver.hits.length;
    return {
      check: async (res) => {
        expect((await deliveriesOf(A.agency.token)).map((d) => d.id)).toContain(res.body.deliveryId);
        await waitFor(async () => receiver.hits.length > hits, 15_000, 'the test event at the receiver');
      },
    };
  },
  'POST /v1/reselling/webhook-deliveries/{deliveryId}/retry': async () => {
    const failed = await failedDelivery();
    return {
      params: { deliveryId: failed.id },
      check: async () =>
        void (await waitFor(
          async () => (await deliveriesOf(A.agency.token)).find((d) => d.id === failed.id && d.attempts > failed.attempts),
          30_000,
          'one more attempt',
        )),
    };
  },
  'POST /v1/webhook-endpoints': async () => {
    await clearEventEndpoints();
    return {
      check: async (res) => {
        expect(res.body.secret).toMatch(/^whsec_/);
        expect((await get(`/v1/webhook-endpoints/${res.body.endpoint.id}`)).events).toEqual(['sub_account.created']);
      },
    };
  },
  'PATCH /v1/webhook-endpoints/{webhookEndpointId}': async () => {
    const { endpoint } = await newEventEndpoint();
    return {
      params: { webhookEndpointId: endpoint.id },
      check: async () => expect((await get(`/v1/webhook-endpoints/${endpoint.id}`)).url).toBe('http://127.0.0.1:9/events-moved'),
    };
  },
  'DELETE /v1/webhook-endpoints/{webhookEndpointId}': async () => {
    const { endpoint } = await newEventEndpoint();
    return {
      params: { webhookEndpointId: endpoint.id },
      check: async () =>
        expect((await api('GET', `/v1/webhook-endpoints/${endpoint.id}`, { token: A.agency.token })).status).toBe(404),
    };
  },
  'POST /v1/webhook-endpoints/{webhookEndpointId}/rotate-secret': async () => {
    const { endpoint, secret } = await newEventEndpoint(receiver.url);
    return {
      params: { webhookEndpointId: endpoint.id },
      check: async (res) => {
        expect(res.body.secret).not.toBe(secret);
        const hits = receiver.hits.length;
        const path = `/v1/webhook-endpoints/${endpoint.id}/test`;
        expectStatus(await api('POST', path, { token: A.agency.token }), 202, 'test');
        await waitFor(async () => receiver.hits.length > hits, 15_000, 'a test event');
        // Both secrets sign during the overlap.
        expect(() => verify(receiver.hits.at(-1)!, res.body.secret)).not.toThrow();
        expect(() => verify(receiver.hits.at(-1)!, secret)).not.toThrow();
      },
    };
  },
  'POST /v1/webhook-endpoints/{webhookEndpointId}/test': async () => {
    const { endpoint } = await newEventEndpoint(receiver.url);
    const hits = receiver.hits.length;
    return {
      params: { webhookEndpointId: endpoint.id },
      check: async (res) => {
        const log = await get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`);
        expect(log.items.map((d: { id: string }) => d.id)).toContain(res.body.deliveryId);
        await waitFor(async () => receiver.hits.length > hits, 15_000, 'the test event at the receiver');
      },
    };
  },
  'POST /v1/webhook-endpoints/{webhookEndpointId}/deliveries/{deliveryId}/retry': async () => {
    const { endpoint } = await newEventEndpoint('http://127.0.0.1:9/events');
    const sent = expectStatus(
      await api('POST', `/v1/webhook-endpoints/${endpoint.id}/test`, { token: A.agency.token }),
      202,
      'test',
    );
    const log = async () => (await get(`/v1/webhook-endpoints/${endpoint.id}/deliveries`)).items as Array<Record<string, any>>;
    const failed = await waitFor(
      async () => (await log()).find((d) => d.id === sent.body.deliveryId && d.status === 'failed'),
      30_000,
      'a failed delivery',
    );
    return {
      params: { webhookEndpointId: endpoint.id, deliveryId: failed.id },
      check: async () =>
        void (await waitFor(
          async () => (await log()).find((d) => d.id === failed.id && d.attempts > failed.attempts),
          30_000,
          'one more attempt',
        )),
    };
  },
};

// ---------------------------------------------------------------------------------------------
// The audit record each write route leaves.

type Audit =
  /** The record's action (or one of them) and target type; `actor` for a public route (no caller): who the write proves. */
  | { action: string | string[]; target: string; actor?: 'user' | 'platform'; orNone?: string }
  /** Not audited here, and why: each of these is already recorded by what it writes. */
  | { exempt: string };

const ledger = { exempt: 'a ledger entry: immutable, with its actor, written in the same transaction (its own audit record)' };
const stripeEvent = {
  exempt: "Stripe's event, no API caller: the purchase it pays or refunds lands as ledger entries (its own audit record)",
};

const audits: Record<WriteRouteKey, Audit> = {
  'POST /v1/agencies': { action: 'agency.created', target: 'agency', actor: 'user' },
  'POST /v1/auth/login': { action: 'user.logged_in', target: 'user', actor: 'user' },
  'POST /v1/auth/verify-email': { action: 'agency.email_verified', target: 'agency', actor: 'user' },
  // The requester is anonymous: the platform sends the link.
  'POST /v1/auth/password-reset': { action: 'user.password_reset_requested', target: 'user', actor: 'platform' },
  'POST /v1/auth/password-reset/confirm': { action: 'user.password_reset', target: 'user', actor: 'user' },
  'POST /v1/auth/password': { action: 'user.password_changed', target: 'user' },
  'POST /v1/auth/logout': { action: 'user.logged_out', target: 'user' },
  'POST /v1/auth/verify-email/resend': { action: 'agency.verification_resent', target: 'agency' },
  'POST /v1/api-keys': { action: 'api_key.created', target: 'api_key' },
  'DELETE /v1/api-keys/{apiKeyId}': { action: 'api_key.revoked', target: 'api_key' },
  'POST /v1/sub-accounts/{subAccountId}/assist': { action: 'assist.started', target: 'sub_account' },
  'POST /v1/assist/exit': { action: 'assist.ended', target: 'sub_account' },
  'POST /v1/sub-accounts': { action: 'sub_account.created', target: 'sub_account' },
  'PATCH /v1/sub-accounts/{subAccountId}': { action: 'sub_account.updated', target: 'sub_account' },
  'DELETE /v1/sub-accounts/{subAccountId}': { action: 'sub_account.closed', target: 'sub_account' },
  'POST /v1/sub-accounts/{subAccountId}/reopen': { action: 'sub_account.reopened', target: 'sub_account' },
  'POST /v1/sub-accounts/{subAccountId}/credentials': { action: 'sub_account.credentials_issued', target: 'sub_account' },
  'POST /v1/accounts/{accountId}/campaigns': { action: 'campaign.created', target: 'campaign' },
  'PATCH /v1/accounts/{accountId}/campaigns/{campaignId}': { action: 'campaign.updated', target: 'campaign' },
  'DELETE /v1/accounts/{accountId}/campaigns/{campaignId}': { action: 'campaign.deleted', target: 'campaign' },
  'POST /v1/accounts/{accountId}/campaigns/{campaignId}/copy': { action: 'campaign.copied', target: 'campaign' },
  'POST /v1/accounts/{accountId}/usage': ledger,
  'POST /v1/usage/batch': ledger,
  'POST /v1/admin/agencies/{agencyId}/credits': ledger,
  'POST /v1/sub-accounts/{subAccountId}/credits/grants': ledger,
  'PATCH /v1/admin/agencies/{agencyId}': { action: 'agency.updated', target: 'agency' },
  'POST /v1/reselling/stripe/connect': {
    action: 'reselling.stripe_account_connected',
    target: 'agency',
    // audit-log.test.ts sees the first connection's record.
    orNone: 'the agency was connected before (beforeAll): a fresh onboarding link writes nothing',
  },
  'PUT /v1/reselling/pricing': { action: 'reselling.pricing_updated', target: 'agency' },
  'POST /v1/accounts/{accountId}/credit-purchases': { action: 'credit_purchase.checkout_started', target: 'purchase' },
  'POST /v1/credits/purchases': { action: 'credit_purchase.checkout_started', target: 'purchase' },
  'POST /v1/webhooks/stripe/connect': stripeEvent,
  'POST /v1/webhooks/stripe': stripeEvent,
  'POST /v1/credits/auto-top-up/payment-method': { action: 'auto_top_up.card_setup_started', target: 'agency' },
  'DELETE /v1/credits/auto-top-up/payment-method': { action: 'auto_top_up.card_removed', target: 'agency' },
  'PUT /v1/credits/auto-top-up': { action: 'auto_top_up.updated', target: 'agency' },
  'PUT /v1/credits/alerts': { action: 'alerts.updated', target: 'agency' },
  // The first PUT creates the endpoint, later ones point it elsewhere.
  'PUT /v1/reselling/auto-recharge-webhook': {
    action: ['auto_recharge_webhook.created', 'auto_recharge_webhook.updated'],
    target: 'auto_recharge_webhook',
  },
  'DELETE /v1/reselling/auto-recharge-webhook': { action: 'auto_recharge_webhook.deleted', target: 'auto_recharge_webhook' },
  'POST /v1/reselling/auto-recharge-webhook/rotate-secret': {
    action: 'auto_recharge_webhook.secret_rotated',
    target: 'auto_recharge_webhook',
  },
  'POST /v1/reselling/auto-recharge-webhook/test': { action: 'auto_recharge_webhook.test_sent', target: 'auto_recharge_webhook' },
  'POST /v1/reselling/webhook-deliveries/{deliveryId}/retry': { action: 'webhook_delivery.retried', target: 'webhook_delivery' },
  'POST /v1/webhook-endpoints': { action: 'webhook_endpoint.created', target: 'webhook_endpoint' },
  'PATCH /v1/webhook-endpoints/{webhookEndpointId}': { action: 'webhook_endpoint.updated', target: 'webhook_endpoint' },
  'DELETE /v1/webhook-endpoints/{webhookEndpointId}': { action: 'webhook_endpoint.deleted', target: 'webhook_endpoint' },
  'POST /v1/webhook-endpoints/{webhookEndpointId}/rotate-secret': {
    action: 'webhook_endpoint.secret_rotated',
    target: 'webhook_endpoint',
  },
  'POST /v1/webhook-endpoints/{webhookEndpointId}/test': { action: 'webhook_endpoint.test_sent', target: 'webhook_endpoint' },
  'POST /v1/webhook-endpoints/{webhookEndpointId}/deliveries/{deliveryId}/retry': {
    action: 'webhook_delivery.retried',
    target: 'webhook_delivery',
  },
};

/** Who the record must name for a caller of this kind. */
function expectedActor(caller: Caller | undefined, audit: { actor?: 'user' | 'platform' }): Record<string, unknown> {
  if (!caller) return { type: audit.actor ?? 'platform' };
  switch (caller.kind) {
    case 'agency_user':
    case 'sub_account_user':
      return { type: 'user' };
    case 'api_key':
      return { type: 'api_key', apiKeyId: A.apiKey.id };
    case 'assist':
      return { type: 'assist', userId: A.agency.userId, assistedAccountId: caller.home };
    default:
      return { type: 'platform' };
  }
}

/** The records the call added to the agency's audit log: exactly one, the route's. */
async function checkAudit(route: RouteDef, caller: Caller | undefined, before: Set<string>, agencyId: string) {
  const audit = audits[keyOf(route) as WriteRouteKey];
  const added = (await auditRecordsOf(agencyId)).filter((r) => !before.has(r.id));
  if ('exempt' in audit) {
    expect(added, `${keyOf(route)} is exempt (${audit.exempt}): it writes no audit record`).toEqual([]);
    return;
  }
  if (audit.orNone && added.length === 0) return;
  expect(
    added.map((r) => r.action),
    `${caller?.label ?? 'anyone'}: ${keyOf(route)} writes one audit record`,
  ).toHaveLength(1);
  const record = added[0]!;
  expect([audit.action].flat()).toContain(record.action);
  expect(record.target.type).toBe(audit.target);
  expect(record.actor).toMatchObject(expectedActor(caller, audit));
  expect(record.sourceIp).toMatch(/127\.0\.0\.1/);
  expect(record.requestId).not.toBe('');
}

/** Room for one more event endpoint (at most 10 per agency): the agency's are removed. */
async function clearEventEndpoints() {
  for (const e of (await get('/v1/webhook-endpoints')).items as Array<{ id: string }>)
    expectStatus(await api('DELETE', `/v1/webhook-endpoints/${e.id}`, { token: A.agency.token }), 204, 'delete endpoint');
}

async function newEventEndpoint(url = 'http://127.0.0.1:9/events', events = ['sub_account.created']) {
  await clearEventEndpoints();
  const res = await api('POST', '/v1/webhook-endpoints', { token: A.agency.token, body: { url, events } });
  return expectStatus(res, 201, 'event endpoint').body as { endpoint: { id: string }; secret: string };
}

/** Sends a test event to the endpoint saved now and returns what the receiver got. */
async function sendTest() {
  const hits = receiver.hits.length;
  expectStatus(await api('POST', '/v1/reselling/auto-recharge-webhook/test', { token: A.agency.token }), 202, 'test');
  await waitFor(async () => receiver.hits.length > hits, 15_000, 'a test event');
  return receiver.hits.at(-1)!;
}

// ---------------------------------------------------------------------------------------------
// The run.

const writeRoutes = routeTable.filter((r) => r.method !== 'GET');

/** One caller of each kind the route allows (none for a public route). */
function callersFor(route: RouteDef): Array<Caller | undefined> {
  if (!route.allow.length) return [undefined];
  const all = callersOf(A, 'A');
  return route.allow.map((kind) => all.find((c) => c.kind === kind));
}

describe('positive controls: every write route, with the caller’s own ids', () => {
  it('the route table has write routes, each with a control and an audit expectation (or exemption)', () => {
    expect(writeRoutes.length).toBeGreaterThan(20);
    expect(writeRoutes.map(keyOf).filter((key) => !(key in controls))).toEqual([]);
    expect(writeRoutes.map(keyOf).filter((key) => !(key in audits))).toEqual([]);
  });

  for (const route of writeRoutes) {
    it(keyOf(route), async () => {
      const control = controls[keyOf(route) as WriteRouteKey];
      expect(control, 'a write route without a positive control: add one to `controls`').toBeDefined();
      const callers = callersFor(route);
      expect(callers.filter(Boolean).length, 'a caller of every allowed kind').toBe(route.allow.length);
      for (const caller of callers) {
        const call = await control(caller);
        const auditAgency = call.auditAgency ?? caller?.agencyId ?? A.agency.agencyId;
        const own = Object.fromEntries(
          pathParams(route.path).map((n) => [n, n === 'agencyId' ? A.agency.agencyId : (caller?.home ?? home())]),
        );
        const matrixBody = route.body
          ? { ...sampleBody(route, 'iso'), ...fixtureBodies[keyOf(route)]?.({ home: home(), agencyId: A.agency.agencyId }) }
          : undefined;
        const before =
          typeof auditAgency === 'string' ? new Set((await auditRecordsOf(auditAgency)).map((r) => r.id)) : new Set<string>();
        const res = await api(
          route.method,
          withQuery(fillPath(route.path, { ...own, ...call.params }), sampleQuery(route, 'iso')),
          {
            token: call.token ?? caller?.token,
            ...(call.rawBody !== undefined ? { rawBody: call.rawBody } : { body: matrixBody && { ...matrixBody, ...call.body } }),
            headers: { 'idempotency-key': randomUUID(), ...call.headers },
          },
        );
        const who = caller?.label ?? 'anyone';
        expect(res.status, `${who}: ${res.text.slice(0, 300)}`).toBe(route.status);
        await checkAudit(route, caller, before, typeof auditAgency === 'string' ? auditAgency : auditAgency(res));
        await call.check(res);
      }
    });
  }
});
