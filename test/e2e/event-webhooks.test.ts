/**
 * Event webhooks end to end (API.md, Event webhooks): an agency registers an endpoint on a
 * 127.0.0.1 receiver, acts on one sub-account step by step, and each action's events arrive
 * exactly once, in the order of the actions, verified with the standardwebhooks library and
 * parsed against the published catalog. Then the endpoints' isolation and input rules, a 410,
 * and a stream batch handed over twice producing nothing new.
 */
import { randomUUID } from 'node:crypto';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventType, eventEnvelope, eventTypes } from '#domain/events/catalog';
import { lambdaContext } from '#local/lambda-context';
import { handler as detectorHandler } from '../../functions/stream/recharge-detector';
import { api, assistToken, createSubAccount, emailsTo, signUpAgency, waitFor } from '../support/api';
import { debitPool, topUpAgency } from '../support/auto-top-up';
import { chargeUsage, expectStatus, patchSub, topUp } from '../support/ledger';
import { pipelineIdle } from '../support/pipeline';
import { grantWith } from '../support/recharge';
import { buy, control, purchaseBecomes, readyAgency } from '../support/reselling';
import { getRaw } from '../support/table';
import { startReceiver, verify } from '../support/webhook-receiver';

const receivers: Array<{ close(): Promise<void> }> = [];
afterAll(async () => {
  for (const r of receivers.splice(0)) await r.close();
});
async function receiver(respond?: Parameters<typeof startReceiver>[0]) {
  const r = await startReceiver(respond);
  receivers.push(r);
  return r;
}

async function register(token: string, url: string, events: readonly string[] = eventTypes) {
  const res = await api('POST', '/v1/webhook-endpoints', { token, body: { url, events } });
  return expectStatus(res, 201, 'register endpoint').body as { endpoint: { id: string }; secret: string };
}

type Received = { id: string; type: EventType; createdAt: string; agencyId: string; data: Record<string, any> };

/** Every hit verified with the endpoint's secret and parsed against its type's published envelope. */
function eventsAt(r: Awaited<ReturnType<typeof receiver>>, secret: string): Received[] {
  return r.hits.map((hit) => {
    const body = verify(hit, secret) as Received;
    expect(eventTypes, `a catalog type: ${body.type}`).toContain(body.type);
    eventEnvelope(body.type).parse(body);
    expect(hit.headers['webhook-id']).toMatch(/^msg_/);
    return body;
  });
}

describe('event webhooks', () => {
  it('each action on one sub-account produces its events exactly once, in the order of the actions', async () => {
    const seller = await readyAgency();
    const { agency } = seller;
    expectStatus(await topUp(agency.agencyId, 1_000), 201, 'pool');
    const levels = { poolBelow: 995, walletBelow: 50 };
    expectStatus(await api('PUT', '/v1/credits/alerts', { token: agency.token, body: levels }), 200, 'alert levels');
    const r = await receiver();
    const { secret } = await register(agency.token, r.url);

    // Each step: the action, and the event types it must cause (as a set: one action may change two items).
    const timeline: Array<{ step: string; types: EventType[] }> = [];
    let sub = '';
    let client = '';
    const step = async (name: string, types: EventType[], action: () => Promise<unknown>) => {
      const before = r.hits.length;
      await action();
      timeline.push({ step: name, types });
      await waitFor(async () => r.hits.length >= before + types.length, 20_000, `the events of "${name}"`);
    };
    const pay = async (then?: 'refund' | 'dispute') => {
      const bought = expectStatus(await buy(client, sub, { credits: 100 }), 201, 'buy').body.purchase;
      await step('pay', ['purchase.paid'], async () => {
        expect((await control(`/sandbox/checkout/sessions/${bought.checkoutSessionId}/pay`)).status).toBe(200);
        await purchaseBecomes(bought.id, 'paid');
      });
      if (!then) return;
      const type = then === 'refund' ? 'purchase.refunded' : 'purchase.disputed';
      await step(then, [type], async () => {
        expect((await control(`/sandbox/checkout/sessions/${bought.checkoutSessionId}/${then}`)).status).toBe(200);
        await purchaseBecomes(bought.id, then === 'refund' ? 'refunded' : 'disputed');
      });
    };

    await step('create', ['sub_account.created'], async () => {
      const created = await createSubAccount(agency.token);
      sub = created.subAccountId;
      client = created.token;
    });
    await step('limit', ['sub_account.updated'], async () =>
      expectStatus(await patchSub(agency.token, sub, { monthlyCreditLimit: 10 }), 200),
    );
    // 10 of the pool (1,000 → 990, below 995) and the whole month's limit.
    await step('use the limit', ['pool.low', 'credit_limit.reached'], async () =>
      expectStatus(await chargeUsage(sub, { type: 'ai_response', quantity: 10 }), 201),
    );
    await step('reselling', ['sub_account.updated'], async () =>
      expectStatus(await patchSub(agency.token, sub, { creditMode: 'reselling' }), 200),
    );
    await step('grant', ['grant.created'], async () => expectStatus(await grantWith(agency.token, sub, 100), 201));
    await pay('refund');
    await pay('dispute');
    await step('auto-recharge', ['sub_account.updated'], async () =>
      expectStatus(await patchSub(agency.token, sub, { autoRecharge: { enabled: true, threshold: 60, credits: 100 } }), 200),
    );
    // The wallet: 100 granted, +100 −100 refunded, +100 −100 disputed = 100; 60 used → 40, below both 60 and 50.
    await step('use the wallet', ['recharge.requested', 'wallet.low'], async () =>
      expectStatus(await chargeUsage(sub, { type: 'ai_response', quantity: 60 }), 201),
    );
    await step('close', ['sub_account.closed'], async () =>
      expect((await api('DELETE', `/v1/sub-accounts/${sub}`, { token: agency.token })).status).toBe(204),
    );
    await pipelineIdle();

    const events = eventsAt(r, secret);
    // Exactly once: as many as the actions caused, no id twice, and each step's own types in its turn.
    expect(events).toHaveLength(timeline.flatMap((t) => t.types).length);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    let at = 0;
    const created: string[] = [];
    for (const { step: name, types } of timeline) {
      const got = events.slice(at, at + types.length);
      expect(got.map((e) => e.type).sort(), `the events of "${name}", in turn`).toEqual([...types].sort());
      // One action's events have different subjects (the pool, the sub-account), so no order among
      // them is promised; between actions there is one.
      created.push(...got.map((e) => e.createdAt).sort());
      at += types.length;
    }
    expect(events.every((e) => e.agencyId === agency.agencyId)).toBe(true);
    expect(created, 'createdAt in the order of the actions').toEqual([...created].sort());

    // The payloads say what happened.
    const of = (type: EventType) => events.filter((e) => e.type === type);
    expect(of('sub_account.created')[0]?.data.subAccount).toMatchObject({ id: sub, status: 'active', creditMode: 'manual' });
    expect(of('sub_account.updated').map((e) => e.data.changed)).toEqual([
      ['monthlyCreditLimit'],
      ['creditMode'],
      ['autoRecharge'],
    ]);
    expect(of('credit_limit.reached')[0]?.data).toMatchObject({ subAccountId: sub, monthlyCreditLimit: 10 });
    expect(of('pool.low')[0]?.data).toEqual({ accountId: agency.agencyId, credits: 990, level: 995 });
    expect(of('grant.created')[0]?.data).toMatchObject({ subAccountId: sub, credits: 100, balanceAfter: 100 });
    expect(of('purchase.paid').map((e) => e.data.purchase)).toEqual([
      expect.objectContaining({ accountId: sub, credits: 100, status: 'paid', trigger: 'manual' }),
      expect.objectContaining({ accountId: sub, credits: 100, status: 'paid', trigger: 'manual' }),
    ]);
    expect(of('purchase.refunded')[0]?.data.purchase).toMatchObject({ status: 'refunded', creditsRefunded: 100 });
    expect(of('purchase.disputed')[0]?.data.purchase).toMatchObject({ status: 'disputed', creditsDisputed: 100 });
    expect(of('recharge.requested')[0]?.data).toMatchObject({ subAccountId: sub, balance: 40, threshold: 60 });
    expect(of('wallet.low')[0]?.data).toEqual({ accountId: sub, credits: 40, level: 50 });
    expect(of('sub_account.closed')[0]?.data.subAccount).toMatchObject({ id: sub, status: 'closed' });

    // The delivery log shows each, succeeded at the first attempt.
    const log = await api('GET', `/v1/webhook-endpoints/${(await endpoints(agency.token))[0]?.id}/deliveries?limit=200`, {
      token: agency.token,
    });
    expect(log.body.items).toHaveLength(events.length);
    expect(log.body.items.every((d: Record<string, unknown>) => d.status === 'succeeded' && d.attempts === 1)).toBe(true);
    // The auto-recharge log is its own: none of these are in it.
    expect((await api('GET', '/v1/reselling/webhook-deliveries', { token: agency.token })).body.items).toEqual([]);
  }, 180_000);

  it('auto top-up: a charged card is auto_top_up.succeeded (and purchase.paid), a declined one auto_top_up.failed', async () => {
    for (const [card, expected] of [
      ['success', ['auto_top_up.succeeded', 'purchase.paid']],
      ['decline', ['auto_top_up.failed']],
    ] as const) {
      const { agency } = await topUpAgency({ pool: 100, threshold: 50, credits: 200, card });
      const r = await receiver();
      const { secret } = await register(agency.token, r.url);
      expect(await debitPool(agency.agencyId, 60)).toBe(201);
      await waitFor(async () => r.hits.length >= expected.length, 20_000, `${card}: the top-up's events`);
      await pipelineIdle();
      const events = eventsAt(r, secret);
      expect(events.map((e) => e.type).sort(), card).toEqual([...expected].sort());
      expect(events[0]?.data.purchase).toMatchObject({ accountId: agency.agencyId, trigger: 'auto_top_up', credits: 200 });
    }
  }, 120_000);

  it('sends an endpoint only the types it subscribed to, and nothing while it is disabled', async () => {
    const agency = await signUpAgency('agency');
    const r = await receiver();
    const { endpoint, secret } = await register(agency.token, r.url, ['sub_account.closed']);
    const off = await register(agency.token, `${r.url}/off`, ['sub_account.created']);
    expectStatus(
      await api('PATCH', `/v1/webhook-endpoints/${off.endpoint.id}`, { token: agency.token, body: { enabled: false } }),
      200,
    );
    const sub = (await createSubAccount(agency.token)).subAccountId;
    expect((await api('DELETE', `/v1/sub-accounts/${sub}`, { token: agency.token })).status).toBe(204);
    await waitFor(async () => r.hits.length >= 1, 20_000, 'the close');
    await pipelineIdle();
    expect(eventsAt(r, secret).map((e) => e.type)).toEqual(['sub_account.closed']);
    expect(r.hits.map((h) => h.headers.host)).toHaveLength(1);
    expect(endpoint.id).toMatch(/^we_/);
  }, 60_000);

  it('a closed sub-account reopened is sub_account.reopened', async () => {
    const agency = await signUpAgency('agency');
    const r = await receiver();
    const { secret } = await register(agency.token, r.url, ['sub_account.closed', 'sub_account.reopened']);
    const sub = (await createSubAccount(agency.token)).subAccountId;
    expect((await api('DELETE', `/v1/sub-accounts/${sub}`, { token: agency.token })).status).toBe(204);
    // One action's events before the next: deliveries run side by side, so two pending at once may arrive either way.
    await waitFor(async () => r.hits.length >= 1, 20_000, 'the closing');
    expectStatus(await api('POST', `/v1/sub-accounts/${sub}/reopen`, { token: agency.token }), 200, 'reopen');
    await waitFor(async () => r.hits.length >= 2, 20_000, 'the reopening');
    await pipelineIdle();
    const events = eventsAt(r, secret);
    expect(events.map((e) => e.type)).toEqual(['sub_account.closed', 'sub_account.reopened']);
    expect(events[1]?.data.subAccount).toMatchObject({ id: sub, status: 'active', closedAt: null });
  }, 60_000);

  it('a 410 turns the endpoint off and emails the agency; enabled again, events flow', async () => {
    const agency = await signUpAgency('agency');
    const r = await receiver((_, i) => (i === 0 ? 410 : 200));
    const { endpoint } = await register(agency.token, r.url, ['sub_account.created']);
    await createSubAccount(agency.token);
    const gone = await waitFor(async () => {
      const e = (await api('GET', `/v1/webhook-endpoints/${endpoint.id}`, { token: agency.token })).body;
      return e.enabled === false && e;
    });
    expect(gone.disabledReason).toMatch(/410/);
    await waitFor(async () => (await emailsTo(agency.email)).find((m) => /Event webhook endpoint turned off/.test(m.subject)));
    const [failed] = (await api('GET', `/v1/webhook-endpoints/${endpoint.id}/deliveries`, { token: agency.token })).body.items;
    expect(failed).toMatchObject({ status: 'failed', lastStatusCode: 410, eventType: 'sub_account.created' });

    expectStatus(
      await api('PATCH', `/v1/webhook-endpoints/${endpoint.id}`, { token: agency.token, body: { enabled: true } }),
      200,
    );
    await createSubAccount(agency.token);
    await waitFor(async () => r.hits.length >= 2, 20_000, 'the next event');
    // The manual retry sends the first one again, with the same webhook-id.
    expectStatus(
      await api('POST', `/v1/webhook-endpoints/${endpoint.id}/deliveries/${failed.id}/retry`, { token: agency.token }),
      202,
    );
    await waitFor(async () => r.hits.length >= 3, 20_000, 'the retry');
    expect(r.hits[2]?.headers['webhook-id']).toBe(r.hits[0]?.headers['webhook-id']);
  }, 60_000);

  it('a stream record handed over again produces no second delivery', async () => {
    const agency = await signUpAgency('agency');
    const r = await receiver();
    await register(agency.token, r.url, ['sub_account.created']);
    const sub = (await createSubAccount(agency.token)).subAccountId;
    await waitFor(async () => r.hits.length >= 1, 20_000, 'the event');
    await pipelineIdle();
    // The sub-account's INSERT, as Lambda hands a record over again after a failed batch: the
    // same record (one eventID), three times, from two "containers" at once and then once more.
    const item = await getRaw(`ACCOUNT#${sub}`, 'ACCOUNT');
    const record: DynamoDBRecord = {
      eventID: `replayed-${randomUUID()}`,
      eventName: 'INSERT',
      dynamodb: { Keys: marshall({ pk: item?.pk, sk: item?.sk }) as never, NewImage: marshall(item ?? {}) as never },
    };
    const handOver = () => detectorHandler({ Records: [record] }, lambdaContext('recharge-detector'));
    for (const out of [...(await Promise.all([handOver(), handOver()])), await handOver()])
      expect(out.batchItemFailures).toEqual([]);
    await pipelineIdle();
    // One event for the record however often it came: the original's delivery and the replayed record's one.
    const log = await api('GET', `/v1/webhook-endpoints/${(await endpoints(agency.token))[0]?.id}/deliveries`, {
      token: agency.token,
    });
    expect(log.body.items).toHaveLength(2);
    expect(r.hits).toHaveLength(2);
  }, 60_000);
});

async function endpoints(token: string) {
  return expectStatus(await api('GET', '/v1/webhook-endpoints', { token }), 200).body.items as Array<{ id: string }>;
}

describe('event webhook endpoints: isolation and input', () => {
  let a: Awaited<ReturnType<typeof signUpAgency>>;
  let b: Awaited<ReturnType<typeof signUpAgency>>;
  let aEndpoint: string;
  let bEndpoint: string;
  let bDelivery: string;

  beforeAll(async () => {
    [a, b] = await Promise.all([signUpAgency('agency'), signUpAgency('agency')]);
    aEndpoint = (await register(a.token, 'http://127.0.0.1:9/a', ['grant.created'])).endpoint.id;
    bEndpoint = (await register(b.token, 'http://127.0.0.1:9/b', ['grant.created'])).endpoint.id;
    bDelivery = expectStatus(await api('POST', `/v1/webhook-endpoints/${bEndpoint}/test`, { token: b.token }), 202).body
      .deliveryId;
  }, 60_000);

  it("another agency's endpoint (or its delivery) is a 404 on every route", async () => {
    const calls: Array<[string, string, unknown?]> = [
      ['GET', `/v1/webhook-endpoints/${bEndpoint}`],
      ['PATCH', `/v1/webhook-endpoints/${bEndpoint}`, { enabled: false }],
      ['DELETE', `/v1/webhook-endpoints/${bEndpoint}`],
      ['POST', `/v1/webhook-endpoints/${bEndpoint}/rotate-secret`],
      ['POST', `/v1/webhook-endpoints/${bEndpoint}/test`],
      ['GET', `/v1/webhook-endpoints/${bEndpoint}/deliveries`],
      ['POST', `/v1/webhook-endpoints/${bEndpoint}/deliveries/${bDelivery}/retry`],
      // B's delivery under A's own endpoint.
      ['POST', `/v1/webhook-endpoints/${aEndpoint}/deliveries/${bDelivery}/retry`],
    ];
    for (const [method, path, body] of calls) {
      const res = await api(method, path, { token: a.token, ...(body ? { body } : {}) });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.code).toBe('not_found');
    }
    // B's endpoint is untouched, and A lists only its own.
    expect((await api('GET', `/v1/webhook-endpoints/${bEndpoint}`, { token: b.token })).body.enabled).toBe(true);
    expect((await endpoints(a.token)).map((e) => e.id)).toEqual([aEndpoint]);
  });

  it('a client, an assist session or an API key is refused with 403', async () => {
    const client = await createSubAccount(a.token);
    const assist = await assistToken(a.token, client.subAccountId);
    const key = expectStatus(await api('POST', '/v1/api-keys', { token: a.token, body: { name: 'k' } }), 201).body.key as string;
    for (const token of [client.token, assist, key]) {
      expect((await api('GET', '/v1/webhook-endpoints', { token })).status).toBe(403);
      const created = await api('POST', '/v1/webhook-endpoints', {
        token,
        body: { url: 'http://127.0.0.1:9/x', events: ['grant.created'] },
      });
      expect(created.status).toBe(403);
      expect((await api('DELETE', `/v1/webhook-endpoints/${aEndpoint}`, { token })).status).toBe(403);
    }
    expect((await endpoints(a.token)).map((e) => e.id)).toEqual([aEndpoint]);
  });

  it('bad input is a 400 naming the field, and nothing is written', async () => {
    const cases: Array<[unknown, string, string?]> = [
      [{ url: 'http://10.0.0.1/hook', events: ['grant.created'] }, 'url', 'invalid_webhook_url'],
      [{ url: 'ftp://example.com/hook', events: ['grant.created'] }, 'url', 'invalid_webhook_url'],
      [{ url: 'https://hooks.example.com/x', events: ['grant.made'] }, 'events.0'],
      [{ url: 'https://hooks.example.com/x', events: [] }, 'events'],
      [{ url: 'https://hooks.example.com/x' }, 'events'],
      [{ url: 'https://hooks.example.com/x', events: ['grant.created'], secret: 'mine' }, 'secret'],
    ];
    for (const [body, field, code = 'invalid_request'] of cases) {
      const res = await api('POST', '/v1/webhook-endpoints', { token: a.token, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe(code);
      expect(JSON.stringify(res.body.errors ?? []), JSON.stringify(body)).toContain(`"${field}"`);
    }
    const patched = await api('PATCH', `/v1/webhook-endpoints/${aEndpoint}`, { token: a.token, body: { enabled: 'yes' } });
    expect(patched.status).toBe(400);
    expect(JSON.stringify(patched.body.errors)).toContain('"enabled"');
    expect((await endpoints(a.token)).map((e) => e.id)).toEqual([aEndpoint]);
    expect((await api('GET', `/v1/webhook-endpoints/${aEndpoint}`, { token: a.token })).body.enabled).toBe(true);
  });

  it('at most 10 endpoints per agency', async () => {
    const c = await signUpAgency('agency');
    for (let i = 0; i < 10; i++) await register(c.token, `http://127.0.0.1:9/c${i}`, ['grant.created']);
    const eleventh = await api('POST', '/v1/webhook-endpoints', {
      token: c.token,
      body: { url: 'http://127.0.0.1:9/c10', events: ['grant.created'] },
    });
    expect(eleventh.status).toBe(403);
    expect(eleventh.body.code).toBe('quota_exceeded');
    expect(await endpoints(c.token)).toHaveLength(10);
  }, 60_000);
});
