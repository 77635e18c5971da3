import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { stripeEventTypes } from '#domain/reselling/event-types';
import { type StripeSandbox, startStripeSandbox } from '#local/stripe-sandbox/index';
import { api, type SubAccountFixture, signUpAgency } from './api';
import { invoke } from './invoke';
import { expectStatus } from './ledger';
import { DEFAULT_PRICING, deliverInProcess, resellingClient } from './reselling';
import { stack } from './stack';
import { stripeClient } from './stripe-sandbox';

/**
 * A Stripe sandbox of this test file's own that SENDS NOTHING: every event it would send is
 * recorded, signed with the stack's webhook secrets, and the test delivers those exact bytes
 * itself, in any order, any number of times, to the webhook handler in this process (whose
 * Stripe client this module points at the private sandbox). So a test decides the order Stripe
 * only promises not to guarantee, with Stripe's own events.
 *
 * Import this module before anything that loads the platform's Stripe client.
 */
export interface PrivateStripe {
  sandbox: StripeSandbox;
  url: string;
  /** The real SDK on the private sandbox, as the account's owner (or Stripe) would act. */
  sdk: ReturnType<typeof stripeClient>;
  reselling: typeof import('../../functions/http/reselling');
  stop(): Promise<void>;
}

export async function startPrivateStripe(): Promise<PrivateStripe> {
  const sandbox = await startStripeSandbox({
    secretKey: stack.env.STRIPE_SECRET_KEY as string,
    webhookSecret: stack.env.STRIPE_WEBHOOK_SECRET as string,
    connectWebhookSecret: stack.env.STRIPE_CONNECT_WEBHOOK_SECRET as string,
    platformWebhookUrl: null,
    connectWebhookUrl: null,
    enabledEvents: [...stripeEventTypes],
  });
  process.env.STRIPE_API_BASE = sandbox.url;
  const reselling = await import('../../functions/http/reselling');
  return {
    sandbox,
    url: sandbox.url,
    sdk: stripeClient(stack.env.STRIPE_SECRET_KEY as string, sandbox.url, { maxNetworkRetries: 0 }),
    reselling,
    stop: () => sandbox.stop(),
  };
}

/** A sandbox control route (what a person or a card network does at Stripe). */
export async function control(ps: PrivateStripe, path: string, body?: Record<string, unknown>) {
  const res = await fetch(`${ps.url}${path}`, {
    method: 'POST',
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = (await res.json()) as any;
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

export interface RecordedEvent {
  id: string;
  type: string;
  account: string | null;
  body: string;
}

/** Every event the private sandbox recorded (one per event, oldest first), optionally only those after `since`. */
export async function recordedEvents(ps: PrivateStripe, since = new Set<string>()): Promise<RecordedEvent[]> {
  const res = await fetch(`${ps.url}/sandbox/events`);
  const { data } = (await res.json()) as { data: RecordedEvent[] };
  const seen = new Set<string>();
  return data
    .slice()
    .reverse()
    .filter((d) => !since.has(d.id) && !seen.has(d.id) && seen.add(d.id));
}

/** Delivers recorded events of these types to the handler in this process, in order. */
export async function deliverRecorded(ps: PrivateStripe, types: string[], since: Set<string>) {
  const answers = [];
  for (const e of await recordedEvents(ps, since)) {
    if (!types.includes(e.type)) continue;
    since.add(e.id);
    answers.push((await deliverInProcess(e.body, { endpoint: e.account ? 'connect' : 'platform' })).body.outcome);
  }
  return answers;
}

export interface PrivateSeller {
  agencyToken: string;
  agencyId: string;
  agencyEmail: string;
  stripeAccountId: string;
  client: SubAccountFixture;
}

/** An Agency-plan agency connected and onboarded on the private sandbox, priced, with one reselling client. */
export async function privateSeller(ps: PrivateStripe): Promise<PrivateSeller> {
  const agency = await signUpAgency('agency');
  const connect = await invoke(ps.reselling.handler, 'POST /v1/reselling/stripe/connect', { token: agency.token });
  expect(connect.status).toBe(201);
  const stripeAccountId = connect.body.accountId as string;
  const before = new Set((await recordedEvents(ps)).map((e) => e.id));
  await control(ps, `/sandbox/accounts/${stripeAccountId}/onboard`);
  expect(await deliverRecorded(ps, ['account.updated'], before)).toEqual(['account_updated']);
  expectStatus(await api('PUT', '/v1/reselling/pricing', { token: agency.token, body: DEFAULT_PRICING }), 200);
  const client = await resellingClient(agency.token);
  return { agencyToken: agency.token, agencyId: agency.agencyId, agencyEmail: agency.email, stripeAccountId, client };
}

/** A client's purchase of `credits`, made in this process (so its Checkout Session is on the private sandbox). */
export async function privatePurchase(ps: PrivateStripe, seller: PrivateSeller, credits: number) {
  const res = await invoke(ps.reselling.handler, 'POST /v1/accounts/{accountId}/credit-purchases', {
    params: { accountId: seller.client.subAccountId },
    token: seller.client.token,
    headers: { 'idempotency-key': `buy-${randomUUID()}` },
    body: { credits },
  });
  expect(res.status).toBe(201);
  return res.body.purchase as { id: string; amount: number; currency: string; checkoutSessionId: string };
}
