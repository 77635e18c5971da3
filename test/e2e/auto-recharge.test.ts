/**
 * Auto-recharge end to end (API.md, Auto-recharge): a debit crosses the threshold, the
 * detector (stream) opens one request, the sender POSTs one signed webhook to a receiver on
 * 127.0.0.1, the "agency's server" grants with the request id and the request closes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/api';
import { expectStatus, patchSub, walletBalance } from '../support/ledger';
import { debit, deliveriesOf, grantWith, rechargeSetup, requestsOf, saveEndpoint } from '../support/recharge';
import { startReceiver, verify } from '../support/webhook-receiver';

const receivers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
});
async function receiver(respond?: Parameters<typeof startReceiver>[0]) {
  const r = await startReceiver(respond);
  receivers.push(r);
  return r;
}

describe('the loop: threshold crossed → signed webhook → grant with requestId → closed', () => {
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
