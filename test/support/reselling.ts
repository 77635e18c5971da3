import { randomBytes, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import Stripe from 'stripe';
import { lambdaContext } from '#local/lambda-context';
import { handler as webhookHandler } from '../../functions/http/stripe-webhooks';
import {
  type AgencyFixture,
  type ApiResponse,
  api,
  createSubAccount,
  type SubAccountFixture,
  signUpAgency,
  waitFor,
} from './api';
import { checkResponse } from './contract';
import { expectStatus, walletBalance as walletBalanceExact } from './ledger';
import { stack } from './stack';
import { stripeClient } from './stripe-sandbox';
import { getRaw } from './table';

/**
 * Reselling through the shared test stack's Stripe sandbox: an agency made ready to sell
 * (connected, onboarded on the sandbox, priced), reselling clients, purchases, the sandbox's
 * buttons, and Stripe events built and signed as Stripe would (for orders Stripe would not
 * produce on its own).
 */
export const sandboxUrl = () => {
  if (!stack.stripeSandboxUrl) throw new Error('the test stack runs no Stripe sandbox');
  return stack.stripeSandboxUrl;
};

/** The real SDK, pointed at the sandbox with the stack's key: to look at what the platform made. */
export const sdk = () => stripeClient(stack.env.STRIPE_SECRET_KEY as string, stack.stripeApiBase, { maxNetworkRetries: 0 });

/** A sandbox control route (what a person does on Stripe's pages). */
export async function control(path: string, body?: Record<string, unknown>): Promise<{ status: number; body: any }> {
  const res = await fetch(`${sandboxUrl()}${path}`, {
    method: 'POST',
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json() };
}

/**
 * The Checkout Sessions the platform asked Stripe for on a connected `account`, as the sandbox's
 * request log shows them (from every container): `created`, or `replayed` by Stripe from an
 * earlier request's Idempotency-Key. Requests that failed are not counted.
 */
export async function checkoutSessionRequests(account: string, base = sandboxUrl()) {
  const q = new URLSearchParams({ method: 'POST', path: '/v1/checkout/sessions', account });
  const { data } = (await (await fetch(`${base}/sandbox/requests?${q}`)).json()) as {
    data: { status: number; replayed: boolean }[];
  };
  const answered = data.filter((r) => r.status === 200);
  return { created: answered.filter((r) => !r.replayed).length, replayed: answered.filter((r) => r.replayed).length };
}

export const STARTER_PACK = { name: 'Starter Pack', credits: 100, price: 1500 };
export const DEFAULT_PRICING = { currency: 'usd', perCreditPrice: '15', packages: [STARTER_PACK] };

export interface ReadyAgency {
  agency: AgencyFixture;
  stripeAccountId: string;
  pricing: {
    currency: string;
    perCreditPrice: string;
    packages: Array<{ id: string; name: string; credits: number; price: number }>;
  };
}

/** An Agency-plan agency with its Stripe account connected, onboarded (account.updated received) and priced. */
export async function readyAgency(pricing: Record<string, unknown> = DEFAULT_PRICING): Promise<ReadyAgency> {
  return makeReady(await signUpAgency('agency'), pricing);
}

/** An Agency-plan agency made ready to sell: its Stripe account connected, onboarded and priced. */
export async function makeReady(agency: AgencyFixture, pricing: Record<string, unknown> = DEFAULT_PRICING): Promise<ReadyAgency> {
  const connect = expectStatus(await api('POST', '/v1/reselling/stripe/connect', { token: agency.token }), 201, 'connect');
  const stripeAccountId: string = connect.body.accountId;
  const onboarded = await control(`/sandbox/accounts/${stripeAccountId}/onboard`);
  if (onboarded.status !== 200) throw new Error(`onboard: ${onboarded.status}`);
  await waitFor(
    async () => (await api('GET', '/v1/reselling/settings', { token: agency.token })).body?.stripe?.chargesEnabled === true,
    15_000,
    'account.updated to enable charges',
  );
  const priced = expectStatus(await api('PUT', '/v1/reselling/pricing', { token: agency.token, body: pricing }), 200, 'pricing');
  return { agency, stripeAccountId, pricing: priced.body.pricing };
}

/** A sub-account switched to reselling mode, with its client logged in. */
export async function resellingClient(agencyToken: string): Promise<SubAccountFixture> {
  const client = await createSubAccount(agencyToken);
  expectStatus(
    await api('PATCH', `/v1/sub-accounts/${client.subAccountId}`, { token: agencyToken, body: { creditMode: 'reselling' } }),
    200,
    'switch to reselling',
  );
  return client;
}

export function buy(token: string, accountId: string, body: Record<string, unknown>, key = `buy-${randomUUID()}`) {
  return api('POST', `/v1/accounts/${accountId}/credit-purchases`, { token, body, headers: { 'idempotency-key': key } });
}

export const walletOf = (token: string, subAccountId: string) => api('GET', `/v1/accounts/${subAccountId}/wallet`, { token });

export const walletBalance = walletBalanceExact;

export const purchaseRow = (id: string) => getRaw(`PURCHASE#${id}`, 'PURCHASE') as Promise<Record<string, any> | undefined>;

/** Waits until the purchase's stored status is `status`. */
export function purchaseBecomes(id: string, status: string, timeoutMs = 15_000) {
  return waitFor(
    async () => {
      const row = await purchaseRow(id);
      return row?.status === status ? row : undefined;
    },
    timeoutMs,
    `purchase ${id} to become ${status}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Events, as Stripe sends them.

export type Endpoint = 'connect' | 'platform';
const secretOf = (endpoint: Endpoint) =>
  (endpoint === 'connect' ? stack.env.STRIPE_CONNECT_WEBHOOK_SECRET : stack.env.STRIPE_WEBHOOK_SECRET) as string;
export const webhookPath = (endpoint: Endpoint) =>
  endpoint === 'connect' ? '/v1/webhooks/stripe/connect' : '/v1/webhooks/stripe';

/** Stripe-Signature for `payload`, signed the SDK's way (`generateTestHeaderString`). */
export function signature(payload: string, opts: { endpoint?: Endpoint; secret?: string; timestamp?: number } = {}) {
  return Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: opts.secret ?? secretOf(opts.endpoint ?? 'connect'),
    ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}),
  });
}

/** Delivers an event body to a webhook route, signed (or with the header given). */
export function deliver(
  payload: string,
  opts: { endpoint?: Endpoint; signature?: string | null; secret?: string; timestamp?: number } = {},
): Promise<ApiResponse> {
  const endpoint = opts.endpoint ?? 'connect';
  const header =
    opts.signature === null
      ? undefined
      : (opts.signature ?? signature(payload, { endpoint, secret: opts.secret, timestamp: opts.timestamp }));
  return api('POST', webhookPath(endpoint), {
    rawBody: payload,
    headers: { 'content-type': 'application/json; charset=utf-8', ...(header ? { 'stripe-signature': header } : {}) },
  });
}

/** The same event with something changed (parsed and printed again, as Stripe prints its payloads). */
export function changed(body: string, change: (event: Record<string, any>) => void): string {
  const event = JSON.parse(body) as Record<string, any>;
  change(event);
  return JSON.stringify(event, null, 2);
}

/**
 * Delivers an event to the webhook handler in THIS process (a second "container" beside the
 * gateway's), as API Gateway would: optionally with the body base64-encoded.
 */
export async function deliverInProcess(
  payload: string,
  opts: { endpoint?: Endpoint; signature?: string; base64?: boolean } = {},
): Promise<{ status: number; body: any }> {
  const endpoint = opts.endpoint ?? 'connect';
  const path = webhookPath(endpoint);
  const event = {
    version: '2.0',
    routeKey: `POST ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', 'stripe-signature': opts.signature ?? signature(payload, { endpoint }) },
    requestContext: { requestId: `req-${randomUUID()}`, http: { method: 'POST', path } },
    body: opts.base64 ? Buffer.from(payload).toString('base64') : payload,
    isBase64Encoded: Boolean(opts.base64),
  } as unknown as APIGatewayProxyEventV2;
  const out = await webhookHandler(event, lambdaContext('stripe-webhooks'));
  const body = JSON.parse(out.body ?? 'null');
  checkResponse({ method: 'POST', path, status: out.statusCode, contentType: out.headers?.['content-type'] as string, body });
  return { status: out.statusCode, body };
}

export interface PurchaseRef {
  id: string;
  amount: number;
  currency: string;
  checkoutSessionId: string;
  /** The connected account; null for the platform's own. */
  account: string | null;
}

/** A client's purchase of `credits` from its agency (201 expected), as the events about it name it. */
export async function newPurchase(seller: ReadyAgency, client: SubAccountFixture, credits: number): Promise<PurchaseRef> {
  const p = expectStatus(await buy(client.token, client.subAccountId, { credits }), 201).body.purchase;
  return {
    id: p.id,
    amount: p.amount,
    currency: p.currency,
    checkoutSessionId: p.checkoutSessionId,
    account: seller.stripeAccountId,
  };
}

const evtId = () => `evt_test_${randomBytes(12).toString('hex')}`;

export function eventBody(type: string, object: Record<string, unknown>, account: string | null): string {
  const event = {
    id: evtId(),
    object: 'event',
    ...(account ? { account } : {}),
    api_version: Stripe.API_VERSION,
    created: Math.floor(Date.now() / 1000),
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
  return JSON.stringify(event, null, 2);
}

/** A Checkout Session event for a purchase, with the fields Stripe's carries that the platform reads (and a few it does not). */
export function sessionEvent(
  type:
    | 'checkout.session.completed'
    | 'checkout.session.async_payment_succeeded'
    | 'checkout.session.async_payment_failed'
    | 'checkout.session.expired',
  p: PurchaseRef,
  over: { paymentStatus?: 'paid' | 'unpaid'; amount?: number; account?: string | null; paymentIntent?: string } = {},
): string {
  const status = type === 'checkout.session.expired' ? 'expired' : 'complete';
  const paymentStatus =
    over.paymentStatus ??
    (type === 'checkout.session.async_payment_succeeded' ? 'paid' : type === 'checkout.session.completed' ? 'paid' : 'unpaid');
  return eventBody(
    type,
    {
      id: p.checkoutSessionId,
      object: 'checkout.session',
      amount_total: over.amount ?? p.amount,
      amount_subtotal: over.amount ?? p.amount,
      currency: p.currency,
      client_reference_id: p.id,
      metadata: { purchaseId: p.id },
      mode: 'payment',
      payment_status: paymentStatus,
      payment_intent: status === 'expired' ? null : (over.paymentIntent ?? `pi_${p.id.slice(4)}`),
      status,
      url: null,
      livemode: false,
    },
    over.account === undefined ? p.account : over.account,
  );
}
