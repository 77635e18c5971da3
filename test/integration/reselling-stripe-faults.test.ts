/**
 * Stripe down, slow or rate-limiting when a purchase is created: 503 try_again with
 * Retry-After and nothing half-made (nothing listed, nothing credited); a retry with the same
 * Idempotency-Key creates the Checkout Session once. Stripe refusing (a 4xx it means): never a
 * 500, a 502 payment_provider_error, or 409 reselling_not_ready for an account it will not
 * let the platform act for. And when Stripe made the session but our
 * record of it was lost, the retry finds that same session (Stripe's idempotency key is ours).
 *
 * Faults come from a private sandbox's fault knob (the shared one serves other test files at
 * the same time); this process's handlers call it, and it sends its events, signed with the
 * stack's secrets, to the shared stack's webhook routes as the shared sandbox would.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stripeEventTypes } from '#domain/reselling/event-types';
import { type StripeSandbox, startStripeSandbox } from '#local/stripe-sandbox/index';
import { api, type SubAccountFixture, signUpAgency, waitFor } from '../support/api';
import { invoke } from '../support/invoke';
import { expectStatus, ledgerEntries } from '../support/ledger';
import { checkoutSessionRequests, DEFAULT_PRICING, resellingClient } from '../support/reselling';
import { stack } from '../support/stack';

let sandbox: StripeSandbox;
let client: SubAccountFixture;
let agencyId: string;
// Loaded after STRIPE_API_BASE points at the private sandbox (the Stripe client reads it once).
let reselling: typeof import('../../functions/http/reselling');
let stripeAccountId: string;
let dynamo: typeof import('#db/client').dynamo;

async function fault(body: { failNext: number; status?: number | 'timeout' }) {
  const res = await fetch(`${sandbox.url}/sandbox/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  sandbox = await startStripeSandbox({
    secretKey: stack.env.STRIPE_SECRET_KEY as string,
    webhookSecret: stack.env.STRIPE_WEBHOOK_SECRET as string,
    connectWebhookSecret: stack.env.STRIPE_CONNECT_WEBHOOK_SECRET as string,
    platformWebhookUrl: `${stack.apiUrl}/v1/webhooks/stripe`,
    connectWebhookUrl: `${stack.apiUrl}/v1/webhooks/stripe/connect`,
    enabledEvents: [...stripeEventTypes],
    retry: { attempts: 4, baseDelayMs: 200 },
  });
  process.env.STRIPE_API_BASE = sandbox.url;
  process.env.STRIPE_TIMEOUT_MS = '1500';
  reselling = await import('../../functions/http/reselling');
  dynamo = (await import('#db/client')).dynamo;

  const agency = await signUpAgency('agency');
  agencyId = agency.agencyId;
  const connect = await invoke(reselling.handler, 'POST /v1/reselling/stripe/connect', { token: agency.token });
  expect(connect.status).toBe(201);
  stripeAccountId = connect.body.accountId;
  const onboard = await fetch(`${sandbox.url}/sandbox/accounts/${connect.body.accountId}/onboard`, { method: 'POST' });
  expect(onboard.status).toBe(200);
  await waitFor(async () => (await api('GET', '/v1/reselling/settings', { token: agency.token })).body.stripe?.chargesEnabled);
  expectStatus(await api('PUT', '/v1/reselling/pricing', { token: agency.token, body: DEFAULT_PRICING }), 200);
  client = await resellingClient(agency.token);
}, 60_000);

afterAll(async () => {
  await sandbox?.stop();
});

const purchase = (key: string, body: Record<string, unknown> = { credits: 10 }) =>
  invoke(reselling.handler, 'POST /v1/accounts/{accountId}/credit-purchases', {
    params: { accountId: client.subAccountId },
    token: client.token,
    headers: { 'idempotency-key': key },
    body,
  });

/** Checkout Sessions Stripe created or replayed for the agency's account, from this test's sandbox's request log. */
const sessions = () => checkoutSessionRequests(stripeAccountId, sandbox.url);

async function nothingVisible() {
  const list = await api('GET', `/v1/accounts/${client.subAccountId}/credit-purchases`, { token: client.token });
  return list.body.items.length;
}

describe('Stripe failing while a purchase is created', () => {
  for (const status of [500, 503, 429, 'timeout'] as const) {
    it(`${status}: 503 try_again with Retry-After, nothing listed; the retry with the same key creates the session once`, async () => {
      const listed = await nothingVisible();
      const { created } = await sessions();
      const key = `fault-${status}-${randomUUID()}`;
      await fault({ failNext: 1, status });
      const first = await purchase(key);
      expect([first.status, first.body.code, first.headers['retry-after']]).toEqual([503, 'try_again', '2']);
      expect(await nothingVisible()).toBe(listed);
      expect((await sessions()).created).toBe(created);

      const retry = await purchase(key);
      expect(retry.status).toBe(201);
      expect((await sessions()).created - created).toBe(1);
      expect(await nothingVisible()).toBe(listed + 1);
      const again = await purchase(key);
      expect([again.status, again.body.purchase.checkoutSessionId]).toEqual([201, retry.body.purchase.checkoutSessionId]);
      expect((await sessions()).created - created).toBe(1);
    });
  }

  it('Stripe refusing what it will refuse again: 400 → 502 payment_provider_error, 403 account_invalid → 409 reselling_not_ready; nothing listed', async () => {
    const listed = await nothingVisible();
    for (const [status, answer, code] of [
      [400, 502, 'payment_provider_error'],
      [403, 409, 'reselling_not_ready'],
    ] as const) {
      await fault({ failNext: 1, status });
      const refused = await purchase(`refused-${status}-${randomUUID()}`);
      expect([status, refused.status, refused.body.code, refused.headers['retry-after']]).toEqual([
        status,
        answer,
        code,
        undefined,
      ]);
      expect(await nothingVisible()).toBe(listed);
    }
  });

  it('Stripe made the session but our record of it was lost: the retry gets that same session, which pays once', async () => {
    const key = `lost-${randomUUID()}`;
    const { created, replayed } = await sessions();
    const name = 'lose-session-attach';
    let lost = 0;
    dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        const input = JSON.stringify((args as { input?: unknown }).input ?? '');
        if (context.commandName === 'TransactWriteItemsCommand' && input.includes('checkoutUrl') && lost === 0) {
          lost++;
          throw Object.assign(new Error('connection reset before the write'), { name: 'LostWrite' });
        }
        return next(args);
      },
      { step: 'initialize', name },
    );
    let first: Awaited<ReturnType<typeof purchase>>;
    try {
      first = await purchase(key);
    } finally {
      dynamo.middlewareStack.remove(name);
    }
    expect([lost, first.status]).toEqual([1, 500]);
    expect((await sessions()).created - created).toBe(1);

    const retry = await purchase(key);
    expect(retry.status).toBe(201);
    expect((await sessions()).replayed - replayed).toBe(1);
    expect((await sessions()).created - created).toBe(1);
    const sessionId = retry.body.purchase.checkoutSessionId as string;
    const paid = await fetch(`${sandbox.url}/sandbox/checkout/sessions/${sessionId}/pay`, { method: 'POST' });
    expect(paid.status).toBe(200);
    await waitFor(async () =>
      (await ledgerEntries(agencyId)).some((e) => e.type === 'purchase' && (e.payment as any)?.checkoutSessionId === sessionId),
    );
    const entries = (await ledgerEntries(agencyId)).filter((e) => (e.payment as any)?.purchaseId === retry.body.purchase.id);
    expect(entries.map((e) => [e.type, e.credits])).toEqual([['purchase', 10]]);
  });
});
