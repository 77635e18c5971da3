import { createServer } from 'node:net';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delivery } from '#local/stripe-sandbox/index';
import {
  CONNECT_WEBHOOK_SECRET,
  onboardedAccount,
  sessionParams,
  startSandboxWithReceiver,
  WEBHOOK_SECRET,
} from '../support/stripe-sandbox';

// How the sandbox delivers events: to which endpoint, signed how, retried how, and what
// GET /sandbox/events records. Signatures are checked with the SDK, as the platform will.
let t: Awaited<ReturnType<typeof startSandboxWithReceiver>>;
beforeAll(async () => {
  t = await startSandboxWithReceiver();
});
afterAll(() => t?.stop());

const listed = async (base: string, query = ''): Promise<Delivery[]> =>
  ((await (await fetch(`${base}/sandbox/events${query}`)).json()) as { data: Delivery[] }).data;

describe('signing and routing', () => {
  it("sends the platform's own events to the platform endpoint, signed with its secret, exactly as listed", async () => {
    const session = await t.stripe.checkout.sessions.create(sessionParams());
    await t.control(`/sandbox/checkout/sessions/${session.id}/pay`);
    await t.sandbox.settled();

    const [arrival] = t.receiver.received.filter(
      (r) => r.event.type === 'checkout.session.completed' && (r.event.data.object as { id: string }).id === session.id,
    );
    expect(arrival?.path).toBe('/platform');
    expect(arrival?.event.account).toBeUndefined();
    expect(arrival?.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);

    const [record] = await listed(t.sandbox.url, `?id=${arrival?.event.id}`);
    expect(record).toMatchObject({ type: 'checkout.session.completed', url: t.receiver.platformUrl, status: 200, attempt: 1 });
    expect(record?.body).toBe(arrival?.body); // the exact bytes sent
    expect(record?.signature).toBe(arrival?.signature);
    const verified = t.stripe.webhooks.constructEvent(record?.body as string, record?.signature as string, WEBHOOK_SECRET);
    expect(verified.id).toBe(arrival?.event.id);

    // The check fails with any other secret, and for a body changed by one byte.
    expect(() => t.stripe.webhooks.constructEvent(record!.body, record!.signature, CONNECT_WEBHOOK_SECRET)).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
    expect(() => t.stripe.webhooks.constructEvent(record!.body, record!.signature, 'whsec_wrong')).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
    const tampered = record!.body.replace('"paid"', '"unpaid"');
    expect(tampered).not.toBe(record!.body);
    expect(() => t.stripe.webhooks.constructEvent(tampered, record!.signature, WEBHOOK_SECRET)).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
    // Nothing the receiver was sent failed its check.
    expect(t.receiver.rejected).toEqual([]);
  });

  it('sends Connect events to the Connect endpoint with `account`, signed with the Connect secret', async () => {
    const account = await onboardedAccount(t.stripe, t.sandbox.url);
    await t.sandbox.settled();
    const records = await listed(t.sandbox.url, `?account=${account.id}`);
    expect(records.map((r) => r.type)).toEqual(['account.updated']);
    const record = records[0] as Delivery;
    expect(record.url).toBe(t.receiver.connectUrl);
    const event = await t.stripe.webhooks.constructEventAsync(record.body, record.signature, CONNECT_WEBHOOK_SECRET);
    expect(event.account).toBe(account.id);
    expect(() => t.stripe.webhooks.constructEvent(record.body, record.signature, WEBHOOK_SECRET)).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
    // The stored event is the delivered one, retrievable from its account.
    const fetched = await t.stripe.events.retrieve(event.id, {}, { stripeAccount: account.id });
    expect(fetched.type).toBe('account.updated');
  });
});

describe('retries', () => {
  it('retries a delivery answered 500 until it is answered 200, recording every attempt newest first', async () => {
    const account = await onboardedAccount(t.stripe, t.sandbox.url);
    const session = await t.stripe.checkout.sessions.create(sessionParams(), { stripeAccount: account.id });
    let failuresLeft = 2;
    t.receiver.setAnswer((event) =>
      event.type === 'checkout.session.completed' && (event.data.object as { id: string }).id === session.id && failuresLeft-- > 0
        ? 500
        : 200,
    );
    try {
      await t.control(`/sandbox/checkout/sessions/${session.id}/pay`);
      await t.sandbox.settled();
    } finally {
      t.receiver.setAnswer(() => 200);
    }
    const arrivals = t.receiver.received.filter(
      (r) => r.event.type === 'checkout.session.completed' && (r.event.data.object as { id: string }).id === session.id,
    );
    expect(arrivals.map((a) => a.status)).toEqual([500, 500, 200]);
    expect(new Set(arrivals.map((a) => a.event.id)).size).toBe(1); // one event, three attempts
    const records = await listed(t.sandbox.url, `?id=${arrivals[0]?.event.id}`);
    expect(records.map((r) => [r.attempt, r.status, r.outcome])).toEqual([
      [3, 200, 'delivered'],
      [2, 500, 'failed'],
      [1, 500, 'failed'],
    ]);
    for (const r of records) expect(t.stripe.webhooks.constructEvent(r.body, r.signature, CONNECT_WEBHOOK_SECRET).id).toBe(r.id);
  });

  it('gives up after the configured attempts, and retries connection errors too', async () => {
    const deadPort = await closedPort();
    const other = await startSandboxWithReceiver({ retry: { attempts: 3, baseDelayMs: 20 } });
    try {
      other.sandbox.setWebhookUrls({ platform: `http://127.0.0.1:${deadPort}/nobody` });
      const session = await other.stripe.checkout.sessions.create(sessionParams());
      await other.control(`/sandbox/checkout/sessions/${session.id}/expire`);
      await other.sandbox.settled();
      const records = await listed(other.sandbox.url, '?type=checkout.session.expired');
      expect(records.map((r) => [r.attempt, r.status, r.outcome])).toEqual([
        [3, null, 'failed'],
        [2, null, 'failed'],
        [1, null, 'failed'],
      ]);
      expect(records[0]?.error).toMatch(/ECONNREFUSED/);
    } finally {
      await other.stop();
    }
  });

  it('records, signs and does not send events for an endpoint with no URL; resend delivers again', async () => {
    const other = await startSandboxWithReceiver();
    try {
      other.sandbox.setWebhookUrls({ platform: null });
      const session = await other.stripe.checkout.sessions.create(sessionParams());
      await other.control(`/sandbox/checkout/sessions/${session.id}/expire`);
      await other.sandbox.settled();
      const [record] = await listed(other.sandbox.url, '?type=checkout.session.expired');
      expect(record).toMatchObject({ url: null, outcome: 'not_sent', status: null });
      expect(other.stripe.webhooks.constructEvent(record!.body, record!.signature, WEBHOOK_SECRET).type).toBe(
        'checkout.session.expired',
      );
      expect(other.receiver.received).toHaveLength(0);

      other.sandbox.setWebhookUrls({ platform: other.receiver.platformUrl });
      expect((await other.control(`/sandbox/events/${record?.id}/resend`)).status).toBe(200);
      await other.sandbox.settled();
      expect(other.receiver.events('checkout.session.expired').map((e) => e.id)).toEqual([record?.id]);
    } finally {
      await other.stop();
    }
  });
});

async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
