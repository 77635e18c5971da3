import { randomUUID } from 'node:crypto';
import { handler as usageHandler } from '../../functions/http/usage';
import { type AgencyFixture, api, emailsTo, signUpAgency, waitFor } from './api';
import { invoke } from './invoke';
import { expectStatus, poolBalance, topUp } from './ledger';
import { control, sandboxUrl } from './reselling';
import { stack } from './stack';

/**
 * Auto top-up through the shared test stack's Stripe sandbox: an agency whose card is saved
 * the way a person saves it (the setup-mode Checkout page's button), its settings, and pool
 * debits from two "containers" at once (the gateway's process and this one).
 */
export type Card = 'success' | 'decline' | 'authentication_required';

export async function saveCard(agency: AgencyFixture, card: Card): Promise<string> {
  const opened = expectStatus(await api('POST', '/v1/credits/auto-top-up/payment-method', { token: agency.token }), 201, 'setup');
  const sessionId = /\/checkout\/(cs_[A-Za-z0-9_]+)/.exec(opened.body.checkoutUrl)?.[1];
  if (!sessionId) throw new Error(`no session in ${opened.body.checkoutUrl}`);
  const done = await control(`/sandbox/checkout/sessions/${sessionId}/setup`, { card });
  if (done.status !== 200) throw new Error(`setup: ${done.status} ${JSON.stringify(done.body)}`);
  await waitFor(
    async () => (await api('GET', '/v1/credits/auto-top-up', { token: agency.token })).body.paymentMethod,
    15_000,
    'the saved card',
  );
  return done.body.customer as string;
}

/** An Agency-plan agency with `pool` credits, a saved card of `card`, and auto top-up on at `threshold` for `credits`. */
export async function topUpAgency(opts: { pool: number; threshold: number; credits: number; card?: Card; enabled?: boolean }) {
  const agency = await signUpAgency('agency');
  if (opts.pool > 0) expectStatus(await topUp(agency.agencyId, opts.pool), 201, 'top-up');
  const customer = await saveCard(agency, opts.card ?? 'success');
  const body = { enabled: opts.enabled ?? true, threshold: opts.threshold, credits: opts.credits };
  expectStatus(await api('PUT', '/v1/credits/auto-top-up', { token: agency.token, body }), 200, 'settings');
  return { agency, customer };
}

/** A pool debit, over HTTP (the gateway's container) or in this process (another container). */
export async function debitPool(agencyId: string, quantity: number, via: 'gateway' | 'test process' = 'gateway') {
  const key = randomUUID();
  const body = { type: 'ai_response', quantity };
  const res =
    via === 'gateway'
      ? await api('POST', `/v1/accounts/${agencyId}/usage`, {
          token: stack.platformApiKey,
          headers: { 'idempotency-key': key },
          body,
        })
      : await invoke(usageHandler, 'POST /v1/accounts/{accountId}/usage', {
          params: { accountId: agencyId },
          token: stack.platformApiKey,
          headers: { 'idempotency-key': key },
          body,
        });
  return res.status;
}

export const topUpSettings = async (token: string) =>
  expectStatus(await api('GET', '/v1/credits/auto-top-up', { token }), 200, 'settings').body;

export async function autoPurchases(token: string) {
  const list = expectStatus(await api('GET', '/v1/credits/purchases?limit=200', { token }), 200, 'purchases').body.items;
  return (list as Array<Record<string, any>>).filter((p) => p.trigger === 'auto_top_up');
}

/** Every event the sandbox sent of `type` about the customer's PaymentIntents (each delivery attempt), oldest first. */
export async function intentEvents(customer: string, type: string) {
  const res = await fetch(`${sandboxUrl()}/sandbox/events?type=${type}`);
  const deliveries = ((await res.json()) as { data: Array<{ id: string; body: string; attempt: number; status: number | null }> })
    .data;
  return deliveries.filter((d) => JSON.parse(d.body).data.object.customer === customer).reverse();
}

/** The PaymentIntents Stripe made for the customer (each sends payment_intent.succeeded or payment_failed once). */
export async function paymentIntentsOf(customer: string): Promise<string[]> {
  const events = [
    ...(await intentEvents(customer, 'payment_intent.succeeded')),
    ...(await intentEvents(customer, 'payment_intent.payment_failed')),
  ];
  return [...new Set(events.map((d) => JSON.parse(d.body).data.object.id as string))];
}

export const waitForPool = (agencyId: string, want: (n: number) => boolean, label: string, timeoutMs = 20_000) =>
  waitFor(async () => want(await poolBalance(agencyId)), timeoutMs, label);

export async function mailsWith(address: string, subject: RegExp) {
  return (await emailsTo(address)).filter((m) => subject.test(m.subject));
}
