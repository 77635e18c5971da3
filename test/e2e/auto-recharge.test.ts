/**
 * Auto-recharge end to end (API.md, Auto-recharge): a debit crosses the threshold, the
 * detector (stream) opens one request, the sender POSTs one signed webhook to a receiver on
 * 127.0.0.1, the "agency's server" grants with the request id and the request closes.
 */
import { randomUUID } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { dynamo } from '#db/client';
import { rechargeStateKey } from '#db/items/recharge';
import { disableWebhookEndpoint } from '#db/items/reselling-settings';
import { transactIf } from '#db/transact';
import { lambdaContext } from '#local/lambda-context';
import { handler as subAccountsHandler } from '../../functions/http/sub-accounts';
import { handler as usageHandler } from '../../functions/http/usage';
import { handler as detectorHandler } from '../../functions/stream/recharge-detector';
import { api, emailsTo, waitFor } from '../support/api';
import { invoke } from '../support/invoke';
import { expectStatus, patchSub, walletBalance, walletItem } from '../support/ledger';
import { pipelineIdle } from '../support/pipeline';
import { debit, deliveriesOf, grantWith, rechargeSetup, requestsOf, saveEndpoint } from '../support/recharge';
import { stack } from '../support/stack';
import { testDb } from '../support/table';
import { type Reply, startReceiver, verify } from '../support/webhook-receiver';

const receivers: Array<{ close(): Promise<void> }> = [];
afterAll(async () => {
  for (const r of receivers.splice(0)) await r.close();
});
async function receiver(respond?: Parameters<typeof startReceiver>[0]) {
  const r = await startReceiver(respond);
  receivers.push(r);
  return r;
}

// Each test has its own agency, receiver and sub-account: they run side by side.
describe.concurrent('auto-recharge', () => {
  // the loop: threshold crossed → signed webhook → grant with requestId → closed
  it('delivers exactly the documented payload, verifiable with standardwebhooks, and the grant closes the request', async () => {
    const { agency, sub } = await rechargeSetup({ wallet: 60 });
    const r = await receiver();
    const saved = await saveEndpoint(agency.token, r.url);
    expect(saved.body).toMatchObject({ url: r.url, enabled: true, disabledReason: null });
    const secret: string = saved.body.secret;
    expect(secret).toMatch(/^whsec_/);
    // Saved again: the secret is not shown (only on creation and rotation).
    expect((await saveEndpoint(agency.token, r.url)).body.secret).toBeUndefined();

    const patched = await patchSub(agency.token, sub, { autoRecharge: { enabled: true, threshold: 50, credits: 100 } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.subAccount.autoRecharge).toEqual({ enabled: true, threshold: 50, credits: 100 });

    expectStatus(await debit(sub, 5), 201, 'debit above the threshold'); // 55: nothing
    expectStatus(await debit(sub, 15), 201, 'debit across'); // 40: below 50
    const hit = await waitFor(async () => r.hits[0], 15_000, 'the webhook');
    const payload = verify(hit, secret);
    const [request] = await requestsOf(agency.token);
    expect(payload).toEqual({
      type: 'credits.recharge_requested',
      timestamp: request?.createdAt,
      data: {
        requestId: request?.id,
        agencyId: agency.agencyId,
        subAccount: { id: sub, name: expect.any(String), email: expect.stringMatching(/@example\.test$/) },
        balance: 40,
        threshold: 50,
        creditsRequested: 100,
      },
    });
    expect(request).toMatchObject({
      subAccountId: sub,
      status: 'open',
      creditsRequested: 100,
      balanceAtTrigger: 40,
      threshold: 50,
    });
    const [delivery] = await waitFor(async () => {
      const ds = await deliveriesOf(agency.token);
      return ds[0]?.status === 'succeeded' && ds;
    });
    expect(delivery).toMatchObject({
      eventType: 'credits.recharge_requested',
      requestId: request?.id,
      attempts: 1,
      lastStatusCode: 200,
    });
    expect(hit.headers['webhook-id']).toBe(delivery?.webhookId);

    const granted = await grantWith(agency.token, sub, 100, { requestId: request?.id });
    expect(granted.status, granted.text).toBe(201);
    expect(granted.body.entry.requestId).toBe(request?.id);
    expect(await walletBalance(sub)).toBe(140);
    const [closed] = await requestsOf(agency.token);
    expect(closed).toMatchObject({ id: request?.id, status: 'fulfilled', fulfilledAt: expect.any(String) });

    const again = await grantWith(agency.token, sub, 100, { requestId: request?.id });
    expect(again.status, again.text).toBe(409);
    expect(again.body.code).toBe('recharge_request_closed');
    const unknown = await grantWith(agency.token, sub, 100, { requestId: 'rrq_01aaaaaaaaaaaaaaaaaaaaaaaa' });
    expect(unknown.status, unknown.text).toBe(404);
    expect(await walletBalance(sub)).toBe(140); // neither moved anything
    expect(r.hits).toHaveLength(1);
  });
});

/** An agency with a receiver answering `replies` in turn (then 200), its endpoint saved, and a sub-account at `wallet`. */
async function withEndpoint(replies: Reply[] = [], wallet = 60) {
  const setup = await rechargeSetup({ wallet });
  const r = await receiver((_, i) => replies[i] ?? 200);
  const secret: string = (await saveEndpoint(setup.agency.token, r.url)).body.secret;
  return { ...setup, r, secret };
}

/** A webhook.test delivery, settled (not pending), with every hit it made. */
async function testDelivery(token: string) {
  const sent = await api('POST', '/v1/reselling/auto-recharge-webhook/test', { token });
  expect(sent.status, sent.text).toBe(202);
  const id = sent.body.deliveryId as string;
  return waitFor(
    async () => {
      const d = (await deliveriesOf(token)).find((x) => x.id === id);
      return d && d.status !== 'pending' && d;
    },
    20_000,
    `delivery ${id} to settle`,
  );
}

/**
 * Holds this process's first `openers` reads of the sub-account's recharge state (the read
 * each opening makes before its conditional write) until all of them have arrived, so every
 * opener has seen the slot free before any takes it: only the write's condition can then
 * keep the requests to one. Released after `timeoutMs` whatever came, so a change that
 * drops the read fails the test on `arrived()` instead of hanging it.
 */
function holdStateReads(agencyId: string, subAccountId: string, openers: number, timeoutMs = 15_000) {
  const name = `hold-recharge-state-reads-${subAccountId}`;
  const { sk } = rechargeStateKey(agencyId, subAccountId);
  let arrived = 0;
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const timer = setTimeout(release, timeoutMs);
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const key = (args.input as { Key?: { sk?: unknown } }).Key?.sk;
      const isStateRead = context.commandName === 'GetItemCommand' && JSON.stringify(key ?? '').includes(sk);
      if (isStateRead && arrived < openers) {
        if (++arrived === openers) release();
        await released;
      }
      return next(args);
    },
    { step: 'serialize', name },
  );
  return {
    arrived: () => arrived,
    remove() {
      clearTimeout(timer);
      release();
      dynamo.middlewareStack.remove(name);
    },
  };
}

/** The stream record of a wallet debit that left `wallet` (the item as stored now), `by` credits lower. */
function walletDropRecord(wallet: Record<string, unknown>, by: number): DynamoDBRecord {
  const before = { ...wallet, balance: Number(wallet.balance) + by, version: Number(wallet.version) - 1 };
  return {
    eventID: randomUUID(),
    eventName: 'MODIFY',
    eventSource: 'aws:dynamodb',
    eventVersion: '1.1',
    awsRegion: 'us-east-1',
    dynamodb: {
      Keys: marshall({ pk: wallet.pk, sk: wallet.sk }) as never,
      NewImage: marshall(wallet) as never,
      OldImage: marshall(before) as never,
      SequenceNumber: String(Date.now()),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

// Apart from the delivery tests below (their retries keep the webhooks queue busy for seconds),
// so waiting for the pipeline to be idle here waits for these tests' own deliveries.
describe.concurrent('auto-recharge: racing openings, racing debits', () => {
  // The two real openers at once: the PATCH that enables auto-recharge on a wallet already
  // below the threshold, and the detector in two containers that were handed the same stream
  // records (Lambda retries a batch, and a shard's batch may go to a new container). All three
  // run in this process, so a barrier can make each read the slot free before any writes.
  // Twice: the day's first opening, and one after a fulfilment the same day (the slot's
  // condition has a form for each).
  it('the enabling PATCH and two detector containers open at once: exactly one request, one delivery, one webhook', async () => {
    // A wallet of 15 granted (credits in: never a trigger for the stack's own detector).
    const { agency, sub, r, secret } = await withEndpoint([], 15);
    // The moment of the race: the PATCH's write of the settings has committed (written here
    // directly; the account item is outside the detector's stream filter), the detectors got
    // a drop of the wallet below 20, and no request is open.
    const autoRecharge = { enabled: true, threshold: 20, credits: 50 };
    await testDb.send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: { pk: `ACCOUNT#${sub}`, sk: 'ACCOUNT' },
        UpdateExpression: 'SET autoRecharge = :on',
        ExpressionAttributeValues: { ':on': autoRecharge },
      }),
    );
    const race = async (droppedBy: number) => {
      const wallet = (await walletItem(sub)) as unknown as Record<string, unknown>;
      const records = [walletDropRecord(wallet, droppedBy)];
      const barrier = holdStateReads(agency.agencyId, sub, 3);
      try {
        const [patched, ...detected] = await Promise.all([
          invoke(subAccountsHandler, 'PATCH /v1/sub-accounts/{subAccountId}', {
            params: { subAccountId: sub },
            token: agency.token,
            body: { autoRecharge },
          }),
          detectorHandler({ Records: records }, lambdaContext('recharge-detector')),
          detectorHandler({ Records: records }, lambdaContext('recharge-detector')),
        ]);
        expect(patched.status).toBe(200);
        for (const d of detected) expect(d.batchItemFailures).toEqual([]);
      } finally {
        barrier.remove();
      }
      expect(barrier.arrived(), 'openers that read the slot free before any took it').toBe(3);
    };

    // Every opener has returned: the requests are written (or not) by now.
    await race(15);
    const [first, ...more] = await requestsOf(agency.token);
    expect(more).toEqual([]);
    expect(first).toMatchObject({ subAccountId: sub, status: 'open', balanceAtTrigger: 15, threshold: 20 });

    // Fulfilled by a grant of 1 (the wallet, 16, stays below 20): the slot is free again today.
    expectStatus(await grantWith(agency.token, sub, 1, { requestId: first!.id }), 201, 'fulfil');
    await race(1);
    const requests = await requestsOf(agency.token);
    expect(requests.map((q) => q.status)).toEqual(['open', 'fulfilled']);
    expect(requests[0]).toMatchObject({ balanceAtTrigger: 16 });

    // Everything the openings set going has run its course (the delivery inserts read by the
    // stack's detector, queued, sent; the webhooks queue drained): one delivery, one webhook each.
    await pipelineIdle();
    const deliveries = await deliveriesOf(agency.token);
    expect(deliveries.map((d) => [d.requestId, d.status, d.attempts])).toEqual(requests.map((q) => [q.id, 'succeeded', 1]));
    expect(r.hits.map((hit) => verify(hit, secret).data.requestId).sort()).toEqual(requests.map((q) => q.id).sort());
  });

  // The debits' side: however they land, one crossing is judged (the stack's one detector
  // reads them a batch at a time, so this does not race the openings: the test above does).
  it('20 debits across the threshold, half over HTTP and half in-process: exactly one request, one delivery', async () => {
    const { agency, sub, r, secret } = await withEndpoint([], 30);
    expectStatus(
      await patchSub(agency.token, sub, { autoRecharge: { enabled: true, threshold: 20, credits: 50 } }),
      200,
      'enable',
    );
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        if (i % 2 === 0) return (await debit(sub, 1)).status;
        const res = await invoke(usageHandler, 'POST /v1/accounts/{accountId}/usage', {
          params: { accountId: sub },
          token: stack.platformApiKey,
          headers: { 'idempotency-key': randomUUID() },
          body: { type: 'ai_response', quantity: 1 },
        });
        return res.status;
      }),
    );
    expect(results.every((s) => s === 201)).toBe(true);
    // Counted once the stack's detector has judged every debit and the webhooks queue is drained.
    await pipelineIdle();
    const requests = await requestsOf(agency.token);
    expect(requests).toHaveLength(1);
    // The first debit that left the wallet below 20, or the lowest of a batch the detector read at once.
    expect(requests[0]!.balanceAtTrigger).toBeLessThan(20);
    const deliveries = await deliveriesOf(agency.token);
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]!.status).toBe('succeeded');
    expect(r.hits).toHaveLength(1);
    expect(verify(r.hits[0]!, secret).data.requestId).toBe(requests[0]!.id);
  });
});

describe.concurrent('auto-recharge: delivery, rotation', () => {
  // delivery: retries, timeouts, redirects, 410, the final failure
  it('retries after a 500 with the same webhook-id, each attempt signed anew', async () => {
    const { agency, r, secret } = await withEndpoint([500]);
    const d = await testDelivery(agency.token);
    expect(d).toMatchObject({ status: 'succeeded', attempts: 2, lastStatusCode: 200, lastError: null });
    expect(r.hits).toHaveLength(2);
    expect(new Set(r.hits.map((h) => h.headers['webhook-id']))).toEqual(new Set([d.webhookId]));
    for (const hit of r.hits)
      expect(verify(hit, secret)).toMatchObject({ type: 'webhook.test', data: { agencyId: agency.agencyId } });
  });

  it('a receiver that hangs is timed out and retried', async () => {
    const { agency, r } = await withEndpoint(['hang']);
    const d = await testDelivery(agency.token);
    expect(d).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(r.hits).toHaveLength(2);
  });

  it('a 3xx is a failure (the redirect is not followed) and is retried', async () => {
    const { agency, r } = await withEndpoint([302]);
    const d = await testDelivery(agency.token);
    expect(d).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(r.hits).toHaveLength(2); // both to the endpoint itself, never to the Location
  });

  it('410 Gone disables the endpoint at once and emails the agency: one attempt, then nothing', async () => {
    const { agency, r } = await withEndpoint([410, 410]);
    const d = await testDelivery(agency.token);
    expect(d).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: 410 });
    const endpoint = await api('GET', '/v1/reselling/auto-recharge-webhook', { token: agency.token });
    expect(endpoint.body).toMatchObject({ enabled: false, disabledReason: expect.stringContaining('410') });
    const again = await api('POST', '/v1/reselling/auto-recharge-webhook/test', { token: agency.token });
    expect(again.status).toBe(409);
    expect(r.hits).toHaveLength(1);
    const turnedOff = async () => (await emailsTo(agency.email)).filter((m) => /webhook turned off/.test(m.subject));
    const [mail] = await waitFor(async () => ((await turnedOff()).length > 0 ? turnedOff() : undefined));
    expect(mail?.body.text).toContain(r.url);
    expect(mail?.body.text).toContain(d.id);
    // A second 410 racing the first finds the endpoint off already: no write, no second email.
    const late = transactIf('endpoint', [
      disableWebhookEndpoint(agency.agencyId, r.url, 'the endpoint answered 410 Gone', new Date().toISOString()),
    ]);
    expect(await late).toBe(false);

    // Saved again, it is on; a second 410 turns it off again and tells the agency again, once each time.
    await saveEndpoint(agency.token, r.url);
    expect(await testDelivery(agency.token)).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: 410 });
    await waitFor(async () => ((await turnedOff()).length === 2 ? true : undefined));
    await pipelineIdle();
    expect(await turnedOff()).toHaveLength(2);
  });

  it('after the last attempt the delivery is failed and the agency is emailed; a manual retry sends it once more', async () => {
    const { agency, r } = await withEndpoint([500, 500, 500]);
    const d = await testDelivery(agency.token);
    // The test stack allows three attempts a second apart (global-setup); deployed, about a day.
    expect(d).toMatchObject({ status: 'failed', attempts: 3, lastStatusCode: 500, lastError: 'receiver answered 500' });
    const mail = await waitFor(async () => (await emailsTo(agency.email)).find((m) => /webhook failed/.test(m.subject)));
    expect(mail.body.text).toContain(d.id);
    expect(r.hits).toHaveLength(3);

    const retried = await api('POST', `/v1/reselling/webhook-deliveries/${d.id}/retry`, { token: agency.token });
    expect(retried.status, retried.text).toBe(202);
    await waitFor(async () => (await deliveriesOf(agency.token))[0]?.status === 'succeeded');
    expect(r.hits).toHaveLength(4);
    expect(r.hits[3]!.headers['webhook-id']).toBe(d.webhookId);
    const twice = await api('POST', `/v1/reselling/webhook-deliveries/${d.id}/retry`, { token: agency.token });
    expect(twice.status).toBe(409);
  });

  it('test events: 10 an hour per agency, then 429 with Retry-After until the hour is over; nothing queued for a refused one', async () => {
    const { agency } = await withEndpoint();
    const { agency: other } = await withEndpoint();
    const start = Date.now();
    const at = (ms: number) => new Date(start + ms).toISOString();
    const send = (token: string, clock: string) => api('POST', '/v1/reselling/auto-recharge-webhook/test', { token, clock });
    for (let i = 0; i < 10; i++) expect((await send(agency.token, at(i * 1000))).status).toBe(202);
    const refused = await send(agency.token, at(30 * 60_000));
    expect([refused.status, refused.body.code]).toEqual([429, 'too_many_attempts']);
    expect(refused.headers.get('retry-after')).toBe(String(30 * 60)); // the window opened with the first
    expect((await send(other.token, at(30 * 60_000))).status).toBe(202); // per agency
    expect((await send(agency.token, at(60 * 60_000 + 1))).status).toBe(202); // a new window
    expect(await deliveriesOf(agency.token)).toHaveLength(11);
  });

  // secret rotation
  it('during the 24 h after a rotation both secrets verify; a rotation older than that signs with the new one only', async () => {
    const { agency, r, secret: first } = await withEndpoint();
    // Rotated 25 hours ago (the test clock): its overlap is over.
    const old = await api('POST', '/v1/reselling/auto-recharge-webhook/rotate-secret', {
      token: agency.token,
      clock: '-90000000',
    });
    expect(old.status, old.text).toBe(200);
    const second: string = old.body.secret;
    await testDelivery(agency.token);
    expect(verify(r.hits[0]!, second).type).toBe('webhook.test');
    expect(() => verify(r.hits[0]!, first)).toThrow();

    // Rotated now: both the new and the replaced secret verify.
    const third: string = (await api('POST', '/v1/reselling/auto-recharge-webhook/rotate-secret', { token: agency.token })).body
      .secret;
    await testDelivery(agency.token);
    expect(String(r.hits[1]!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verify(r.hits[1]!, third).type).toBe('webhook.test');
    expect(verify(r.hits[1]!, second).type).toBe('webhook.test');
    expect(() => verify(r.hits[1]!, first)).toThrow();
  });
});
