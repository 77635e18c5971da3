/**
 * Credits enter only where the platform is paid: only the Checkout Session the platform made
 * for a purchase pays it, and a refund or dispute counts only for the payment that session
 * bound. An agency has full API access to its own (Standard) Stripe account and writes its
 * charges' metadata: here it makes its own charges naming a client's pending purchase, re-points
 * a paid charge at another purchase, charges without a PaymentIntent, and opens its own Checkout
 * Session for the purchase — genuine Stripe events, each of which lands nothing. Then the paths
 * that must pay (`no_payment_required`), and each of the two exactly-once guards holding alone.
 */
import { randomUUID } from 'node:crypto';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotencyKey } from '#db/items/ledger-entry';
import { invoke } from '../support/invoke';
import { ledgerEntries, type StoredEntry } from '../support/ledger';
import {
  control,
  deliverRecorded,
  type PrivateSeller,
  type PrivateStripe,
  privatePurchase,
  privateSeller,
  recordedEvents,
  startPrivateStripe,
} from '../support/private-stripe';
import { changed, deliverInProcess, eventBody, purchaseRow, walletBalance } from '../support/reselling';
import { stack } from '../support/stack';
import { getRaw, testDb } from '../support/table';

let ps: PrivateStripe;
let seller: PrivateSeller;

beforeAll(async () => {
  ps = await startPrivateStripe();
  seller = await privateSeller(ps);
}, 60_000);

afterAll(async () => {
  await ps?.stop();
});

const as = () => ({ stripeAccount: seller.stripeAccountId });
const mine = (all: StoredEntry[], purchaseId: string) =>
  all.filter((e) => (e.payment as { purchaseId?: string } | undefined)?.purchaseId === purchaseId);

/** What an unbelieved event must not change: the purchase, the wallet, the purchase's entries. */
async function state(purchaseId: string) {
  const [row, wallet, entries] = await Promise.all([
    purchaseRow(purchaseId),
    walletBalance(seller.client.subAccountId),
    ledgerEntries(seller.agencyId),
  ]);
  return { status: row?.status, wallet, entries: mine(entries, purchaseId).length };
}

/** A new recorded-events cursor: everything recorded so far counts as seen. */
const cursor = async () => new Set((await recordedEvents(ps)).map((e) => e.id));

/** The purchase paid on the private sandbox and its completed event delivered: paid, credits in. */
async function paidPurchase(credits: number) {
  const p = await privatePurchase(ps, seller, credits);
  const seen = await cursor();
  await control(ps, `/sandbox/checkout/sessions/${p.checkoutSessionId}/pay`);
  expect(await deliverRecorded(ps, ['checkout.session.completed'], seen)).toEqual(['paid']);
  const session = await ps.sdk.checkout.sessions.retrieve(p.checkoutSessionId, {}, as());
  return { ...p, paymentIntent: session.payment_intent as string };
}

describe('charge metadata is never evidence', () => {
  it("the agency's own charge naming a pending purchase, refunded by 1 cent: nothing lands; the real payment later does", async () => {
    const p = await privatePurchase(ps, seller, 1000);
    const before = await state(p.id);
    const seen = await cursor();
    const own = await control(ps, `/sandbox/accounts/${seller.stripeAccountId}/charges`, {
      amount: p.amount,
      currency: p.currency,
      metadata: { purchaseId: p.id },
    });
    await ps.sdk.refunds.create({ charge: own.charge.id, amount: 1 }, as());
    // Stripe's own, genuinely signed charge.refunded, on the agency's account, naming the purchase.
    expect(await deliverRecorded(ps, ['charge.refunded'], seen)).toEqual(['parked']);
    expect(await state(p.id)).toEqual(before);

    // The client pays for real: 1,000 credits land, and nothing of the agency's charge is settled against them.
    await control(ps, `/sandbox/checkout/sessions/${p.checkoutSessionId}/pay`);
    expect(await deliverRecorded(ps, ['checkout.session.completed'], seen)).toEqual(['paid']);
    expect(await state(p.id)).toEqual({ status: 'paid', wallet: before.wallet + 1000, entries: 1 });
  });

  it('a paid charge whose metadata is re-pointed at a second pending purchase settles only its own purchase', async () => {
    const a = await paidPurchase(20);
    const b = await privatePurchase(ps, seller, 20);
    const seen = await cursor();
    await ps.sdk.refunds.create({ payment_intent: a.paymentIntent, amount: Math.floor(a.amount / 2) }, as());
    const real = (await recordedEvents(ps, seen)).find((e) => e.type === 'charge.refunded');
    expect(real).toBeDefined();
    const repointed = changed(real!.body, (e) => {
      e.id = `evt_${randomUUID().replaceAll('-', '')}`;
      e.data.object.metadata = { purchaseId: b.id };
    });
    const bBefore = await state(b.id);
    expect((await deliverInProcess(repointed)).body.outcome).toBe('settled');
    expect(await state(b.id)).toMatchObject({ status: bBefore.status, entries: 0 });
    expect(await purchaseRow(a.id)).toMatchObject({ status: 'refunded', creditsRefunded: 10 });
    // The genuine event afterwards finds nothing more to do.
    expect((await deliverInProcess(real!.body)).body.outcome).toBe('duplicate');
  });

  it('a Charges-API charge without a PaymentIntent is ignored, whatever its metadata names', async () => {
    const p = await privatePurchase(ps, seller, 20);
    const before = await state(p.id);
    const seen = await cursor();
    const own = await control(ps, `/sandbox/accounts/${seller.stripeAccountId}/charges`, {
      amount: p.amount,
      currency: p.currency,
      metadata: { purchaseId: p.id },
      paymentIntent: false,
    });
    expect(own.charge.payment_intent).toBeNull();
    await ps.sdk.refunds.create({ charge: own.charge.id }, as());
    expect(await deliverRecorded(ps, ['charge.refunded'], seen)).toEqual(['ignored']);
    expect(await state(p.id)).toEqual(before);
  });

  it("a Checkout Session the agency opens on its own account for the purchase's amount, naming it, pays nothing", async () => {
    const p = await privatePurchase(ps, seller, 20);
    const before = await state(p.id);
    const own = await ps.sdk.checkout.sessions.create(
      {
        mode: 'payment',
        line_items: [{ price_data: { currency: p.currency, unit_amount: p.amount, product_data: { name: 'x' } }, quantity: 1 }],
        client_reference_id: p.id,
        metadata: { purchaseId: p.id },
        success_url: 'https://agency.example/ok',
      },
      as(),
    );
    const seen = await cursor();
    await control(ps, `/sandbox/checkout/sessions/${own.id}/pay`);
    expect(await deliverRecorded(ps, ['checkout.session.completed'], seen)).toEqual(['ignored']);
    expect(await state(p.id)).toEqual(before);
  });

  it('a session event for a purchase whose Checkout Session was never attached is ignored', async () => {
    // Stripe fails while the session is created: the purchase exists, invisible, with no session.
    const fault = await fetch(`${ps.url}/sandbox/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ failNext: 1, status: 500 }),
    });
    expect(fault.status).toBe(200);
    const key = `unattached-${randomUUID()}`;
    const refused = await invoke(ps.reselling.handler, 'POST /v1/accounts/{accountId}/credit-purchases', {
      params: { accountId: seller.client.subAccountId },
      token: seller.client.token,
      headers: { 'idempotency-key': key },
      body: { credits: 20 },
    });
    expect(refused.status).toBe(503);
    const purchaseId = (await getRaw(`ACCOUNT#${seller.client.subAccountId}`, `PURCHASE_KEY#${key}`))?.purchaseId as string;
    const row = await purchaseRow(purchaseId);
    expect(row).toMatchObject({ status: 'pending' });
    expect(row?.checkoutSessionId).toBeUndefined();
    const forged = eventBody(
      'checkout.session.completed',
      {
        id: 'cs_test_forged',
        object: 'checkout.session',
        amount_total: row?.amount,
        currency: row?.currency,
        client_reference_id: purchaseId,
        metadata: { purchaseId },
        mode: 'payment',
        payment_status: 'paid',
        payment_intent: null,
        status: 'complete',
      },
      seller.stripeAccountId,
    );
    const before = await state(purchaseId);
    expect((await deliverInProcess(forged)).body.outcome).toBe('ignored');
    expect(await state(purchaseId)).toEqual(before);
  });
});

describe('what does pay', () => {
  it("no_payment_required on the purchase's own session pays it, once", async () => {
    const p = await privatePurchase(ps, seller, 20);
    const before = await state(p.id);
    const session = await ps.sdk.checkout.sessions.retrieve(p.checkoutSessionId, {}, as());
    const completed = eventBody(
      'checkout.session.completed',
      { ...session, status: 'complete', payment_status: 'no_payment_required', payment_intent: null, url: null },
      seller.stripeAccountId,
    );
    expect((await deliverInProcess(completed)).body.outcome).toBe('paid');
    expect((await deliverInProcess(completed)).body.outcome).toBe('duplicate');
    expect(await state(p.id)).toEqual({ status: 'paid', wallet: before.wallet + 20, entries: 1 });
  });
});

/**
 * Three guards keep a payment from landing twice, all in the transaction that credits it: the
 * purchase's status condition (pending, failed or expired → paid), the entry keyed
 * `purchase:<id>`, and the payment's binding to the purchase. Each is shown holding alone, the
 * others taken away in the table or made stale in the read (faults the real parts produce only
 * in a race between two containers, which a test cannot time).
 */
describe('each exactly-once guard holds alone', () => {
  const entryKey = (p: { id: string }) =>
    idempotencyKey({
      agencyId: seller.agencyId,
      operation: 'purchase',
      accountId: seller.client.subAccountId,
      idempotencyKey: `purchase:${p.id}`,
    });
  const purchaseKey = (p: { id: string }) => ({ pk: `PURCHASE#${p.id}`, sk: 'PURCHASE' });
  const setStatus = (p: { id: string }, status: string) =>
    testDb.send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: purchaseKey(p),
        UpdateExpression: 'SET #s = :s',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': status },
      }),
    );
  /** Takes the purchase's entry away while `fn` runs, then puts it back. */
  async function withoutEntry<T>(p: { id: string }, fn: () => Promise<T>): Promise<T> {
    const entry = await getRaw(entryKey(p).pk, entryKey(p).sk);
    expect(entry).toBeDefined();
    await testDb.send(new DeleteCommand({ TableName: stack.tableName, Key: entryKey(p) }));
    try {
      return await fn();
    } finally {
      await testDb.send(new PutCommand({ TableName: stack.tableName, Item: entry }));
    }
  }
  /** This process reads the purchase as still pending while `fn` runs (as a container that read it before another's commit would). */
  async function readingPending<T>(p: { id: string }, fn: () => Promise<T>): Promise<T> {
    const { dynamo } = await import('#db/client');
    const name = 'stale-purchase-read';
    dynamo.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        // Outside the document client's unmarshalling: plain attributes.
        const item = (out.output as { Item?: Record<string, unknown> } | undefined)?.Item;
        if (item?.pk === purchaseKey(p).pk) item.status = 'pending';
        return out;
      },
      { step: 'initialize', name },
    );
    try {
      return await fn();
    } finally {
      dynamo.middlewareStack.remove(name);
    }
  }
  /** A payment with no PaymentIntent (no_payment_required), so no binding: the status and the entry alone. */
  async function landedWithoutIntent(credits: number) {
    const p = await privatePurchase(ps, seller, credits);
    const session = await ps.sdk.checkout.sessions.retrieve(p.checkoutSessionId, {}, as());
    const completed = () =>
      eventBody(
        'checkout.session.completed',
        { ...session, status: 'complete', payment_status: 'no_payment_required', payment_intent: null, url: null },
        seller.stripeAccountId,
      );
    expect((await deliverInProcess(completed())).body.outcome).toBe('paid');
    return { p, completed };
  }

  it("the purchase's status condition alone: entry gone, the purchase read as pending, nothing more lands", async () => {
    const { p, completed } = await landedWithoutIntent(20);
    const wallet = await walletBalance(seller.client.subAccountId);
    const outcome = await withoutEntry(p, () =>
      readingPending(p, async () => (await deliverInProcess(completed())).body.outcome),
    );
    expect([outcome, await walletBalance(seller.client.subAccountId)]).toEqual(['already_paid', wallet]);
  });

  it('the entry key alone: the status put back to pending, nothing more lands', async () => {
    const { p, completed } = await landedWithoutIntent(20);
    const wallet = await walletBalance(seller.client.subAccountId);
    await setStatus(p, 'pending');
    try {
      expect((await deliverInProcess(completed())).body.outcome).toBe('already_paid');
      expect(await walletBalance(seller.client.subAccountId)).toBe(wallet);
    } finally {
      await setStatus(p, 'paid');
    }
  });

  it("the payment's binding alone: status pending and entry gone, a redelivered payment lands nothing", async () => {
    const seen = await cursor();
    const p = await paidPurchase(20);
    const redelivery = (await recordedEvents(ps, seen)).find((e) => e.type === 'checkout.session.completed');
    const wallet = await walletBalance(seller.client.subAccountId);
    await setStatus(p, 'pending');
    try {
      const again = changed(redelivery!.body, (e) => {
        e.id = `evt_${randomUUID().replaceAll('-', '')}`;
      });
      const outcome = await withoutEntry(p, async () => (await deliverInProcess(again)).body.outcome);
      expect([outcome, await walletBalance(seller.client.subAccountId)]).toEqual(['already_paid', wallet]);
    } finally {
      await setStatus(p, 'paid');
    }
  });
});
