/**
 * A webhook attempt whose lease ran out while its POST was still open (packages/domain/
 * recharge/send.ts): another sender takes the delivery over, and whatever the first one hears
 * afterwards changes nothing. Both senders run here, on a delivery whose first attempt failed
 * (so the stack's own sender, handed the insert's attempt-1 message, drops it): the first one's
 * POST is held open by a receiver on 127.0.0.1; the second runs with its clock past the first
 * one's lease (as a sender running after the first's Lambda timeout would), and its POST is
 * answered 200; then the held one is answered 500. The first sender records nothing
 * ('dropped'); the delivery stays as the second recorded it: succeeded after two attempts, its
 * status code 200, no lease, no retry; both POSTs carried the same webhook-id, so a receiver
 * can tell the second was the first again.
 */
import '../support/stack'; // first: points this process at the local stack before handler modules load
import { afterAll, expect, it } from 'vitest';
import { withClock } from '#core/clock';
import { getDelivery, putDelivery } from '#db/items/webhook-delivery';
import { transact } from '#db/transact';
import { newDelivery } from '#domain/recharge/open';
import { sendDelivery } from '#domain/recharge/send';
import { signUpAgency, waitFor } from '../support/api';
import { pipelineIdle } from '../support/pipeline';
import { saveEndpoint } from '../support/recharge';
import { startReceiver } from '../support/webhook-receiver';

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of closers.splice(0)) await close();
});

it('a sender that lost its lease mid-POST records nothing: the one that took the delivery over decides it', async () => {
  // This process's senders wait a minute for an answer (the stack's wait 1.5 s): the held POST outlasts the takeover.
  process.env.WEBHOOK_TIMEOUT_MS = '60000';
  const agency = await signUpAgency();
  // The first POST is held open until the test answers it; every later one is answered 200.
  let answerFirst: (status: number) => void = () => undefined;
  const firstAnswer = new Promise<number>((resolve) => {
    answerFirst = resolve;
  });
  const receiver = await startReceiver((_hit, index) => (index === 0 ? firstAnswer : 200));
  closers.push(receiver.close);
  await saveEndpoint(agency.token, receiver.url);
  const at = new Date();
  const delivery = {
    ...newDelivery(agency.agencyId, 'webhook.test', JSON.stringify({ type: 'webhook.test' }), at),
    attempts: 1,
    lastStatusCode: 503,
    nextAttemptAt: at.getTime(),
  };
  await transact([putDelivery(delivery)]);
  const message = { agencyId: agency.agencyId, deliveryId: delivery.id, attempt: 2 };

  const first = sendDelivery(message);
  await waitFor(async () => receiver.hits.length === 1, 30_000, 'the first POST');
  expect((await getDelivery(agency.agencyId, delivery.id))?.leaseToken, 'the first sender holds the lease').toBeDefined();

  // The second sender, an hour on: the first one's lease (its timeout + 20 s) is long over.
  const second = await withClock({ offsetMs: 3_600_000 }, () => sendDelivery(message));
  expect(second).toBe('succeeded');
  answerFirst(500);
  expect(await first).toBe('dropped');
  await pipelineIdle(); // the retry the first sender queued before its record failed: dropped too

  const after = await getDelivery(agency.agencyId, delivery.id);
  expect(after).toMatchObject({ status: 'succeeded', attempts: 2, lastStatusCode: 200 });
  expect(after?.leaseToken).toBeUndefined();
  expect(after?.nextAttemptAt).toBeUndefined();
  expect(receiver.hits.map((h) => h.headers['webhook-id'])).toEqual([delivery.webhookId, delivery.webhookId]);
});
