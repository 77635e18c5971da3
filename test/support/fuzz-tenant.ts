import { api, assistToken, createSubAccount, signUpAgency, waitFor } from './api';
import { createSubAccountOnly, expectStatus, patchSub, topUp } from './ledger';
import { deliveriesOf, grantWith, saveEndpoint } from './recharge';
import { makeReady } from './reselling';
import { type Caller, callersOf, createTenant, type TenantFixture } from './tenants';
import { startReceiver } from './webhook-receiver';

/**
 * The fuzz's tenant (e2e/fuzz.test.ts), made ready for valid requests to get through: a pool,
 * a Stripe account and pricing, a reselling sub-account with a wallet, a webhook endpoint that
 * takes every delivery, a failed delivery to retry, a client whose password logins try. The
 * objects routes change or destroy, and the sessions routes end, are spares of their own, so
 * every route meets the tenant as it was set up.
 */
export interface FuzzTenant {
  tenant: TenantFixture;
  callers: Caller[];
  /** Real objects: `spare*` for the routes that change or destroy what they name. */
  real: {
    campaign: string;
    spareCampaign: string;
    spareKey: string;
    spareAgency: string;
    reselling: string;
    failedDelivery: string;
    /** An event webhook endpoint (its spare for DELETE), and a failed delivery of the first. */
    webhookEndpoint: string;
    spareWebhookEndpoint: string;
    failedEventDelivery: string;
  };
  /** Callers of the routes that end a session (or every session of a user), per route key: sessions of their own. */
  sessionCallers: Record<string, Caller[]>;
  /** What valid bodies need that only this tenant knows (credentials, its endpoint), per route key. */
  fixtures: Record<string, Record<string, unknown>>;
  close(): Promise<void>;
}

export async function fuzzTenant(): Promise<FuzzTenant> {
  const tenant = await createTenant(2);
  const token = tenant.agency.token;
  const home = tenant.subs[0]!.subAccountId;
  const campaign = async () =>
    expectStatus(await api('POST', `/v1/accounts/${home}/campaigns`, { token, body: { name: 'fuzz' } }), 201, 'campaign').body
      .campaign.id as string;
  const apiKey = async () =>
    expectStatus(await api('POST', '/v1/api-keys', { token, body: { name: 'spare' } }), 201, 'key').body.id as string;
  const resellingSub = async () => {
    const [sub] = await Promise.all([
      createSubAccountOnly(token),
      topUp(tenant.agency.agencyId, 1_000_000, { reference: 'fuzz' }).then((res) => expectStatus(res, 201, 'top-up')),
    ]);
    expectStatus(await patchSub(token, sub, { creditMode: 'reselling' }), 200, 'reselling');
    expectStatus(await grantWith(token, sub, 1_000), 201, 'wallet');
    return sub;
  };
  const [campaignId, spareCampaign, spareKey, reselling, failed, receiver, login, session, spareAgency] = await Promise.all([
    campaign(),
    campaign(),
    apiKey(),
    resellingSub(),
    failedDelivery(token),
    startReceiver(),
    createSubAccount(token),
    createSubAccount(token),
    signUpAgency('agency', { verifyEmail: false }),
    makeReady(tenant.agency),
  ]);
  // Then a receiver that takes every delivery at once: no attempts, retries or failure emails to wait for.
  await saveEndpoint(token, receiver.url);
  const events = await eventEndpoints(token, receiver.url);

  const own = (kind: Caller['kind'], label: string, sessionToken: string): Caller => ({
    label,
    kind,
    token: sessionToken,
    agencyId: tenant.agency.agencyId,
    home: session.subAccountId,
  });
  const logIn = async (email: string, password: string) =>
    expectStatus(await api('POST', '/v1/auth/login', { body: { email, password } }), 200, 'login').body.token as string;
  return {
    tenant,
    callers: callersOf(tenant, 'F'),
    real: {
      campaign: campaignId,
      spareCampaign,
      spareKey,
      spareAgency: spareAgency.agencyId,
      reselling,
      failedDelivery: failed,
      ...events,
    },
    sessionCallers: {
      'POST /v1/auth/logout': [
        own('agency_user', 'a spare agency session', await logIn(tenant.agency.email, tenant.agency.password)),
        own('sub_account_user', "a spare client's session", session.token),
        own('assist', 'a spare assist', await assistToken(token, session.subAccountId)),
      ],
      'POST /v1/assist/exit': [own('assist', 'a spare assist', await assistToken(token, session.subAccountId))],
      'POST /v1/auth/password': [
        own('sub_account_user', "a spare client's session", await logIn(session.email, session.password)),
      ],
    },
    fixtures: {
      'POST /v1/auth/login': { email: login.email, password: login.password },
      'POST /v1/auth/password': { currentPassword: session.password },
      'PUT /v1/reselling/auto-recharge-webhook': { url: receiver.url },
      'POST /v1/webhook-endpoints': { url: receiver.url },
      'PATCH /v1/webhook-endpoints/{webhookEndpointId}': { url: receiver.url },
      // One target or the list, never both; a package or an amount, never both.
      'POST /v1/accounts/{accountId}/campaigns/{campaignId}/copy': { targetAccountIds: undefined },
      'POST /v1/accounts/{accountId}/credit-purchases': { credits: 10, packageId: undefined },
      'POST /v1/credits/purchases': { packageId: 'pool_1000', credits: undefined },
      // No recharge request is open: a requestId names none (404).
      'POST /v1/sub-accounts/{subAccountId}/credits/grants': { requestId: undefined },
    },
    close: () => receiver.close(),
  };
}

/** A webhook delivery that failed (only a failed one may be retried): port 9 on 127.0.0.1 is closed. */
async function failedDelivery(token: string): Promise<string> {
  await saveEndpoint(token, 'http://127.0.0.1:9/recharge');
  const sent = expectStatus(await api('POST', '/v1/reselling/auto-recharge-webhook/test', { token }), 202, 'test');
  await waitFor(
    async () => (await deliveriesOf(token)).some((d) => d.id === sent.body.deliveryId && d.status === 'failed'),
    30_000,
    'a failed delivery',
  );
  return sent.body.deliveryId;
}

/**
 * Two event endpoints on the receiver, and a failed delivery of the first (sent while it
 * pointed at the closed port 9): what the endpoint routes name.
 */
async function eventEndpoints(token: string, url: string) {
  const register = async (to: string) =>
    expectStatus(await api('POST', '/v1/webhook-endpoints', { token, body: { url: to, events: ['grant.created'] } }), 201).body
      .endpoint.id as string;
  const [webhookEndpoint, spareWebhookEndpoint] = [await register('http://127.0.0.1:9/events'), await register(url)];
  const sent = expectStatus(await api('POST', `/v1/webhook-endpoints/${webhookEndpoint}/test`, { token }), 202, 'test');
  await waitFor(
    async () =>
      (await api('GET', `/v1/webhook-endpoints/${webhookEndpoint}/deliveries?status=failed`, { token })).body.items.length > 0,
    30_000,
    'a failed event delivery',
  );
  expectStatus(await api('PATCH', `/v1/webhook-endpoints/${webhookEndpoint}`, { token, body: { url } }), 200);
  return { webhookEndpoint, spareWebhookEndpoint, failedEventDelivery: sent.body.deliveryId as string };
}
