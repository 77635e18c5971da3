/**
 * One agency's slow endpoint does not hold the others' webhooks (packages/domain/recharge/
 * fairness.ts): agency A has 60 deliveries queued to a receiver on 127.0.0.1 that answers
 * nothing until the test lets it; agency B's one test event, queued after them, still arrives
 * while some of A's have not even been tried; A never has more than the cap of POSTs open at
 * once; and once A's receiver answers, every one of A's deliveries ends with exactly as many
 * attempts recorded as POSTs received: waiting for a slot is no attempt, and loses nothing.
 */
import '../support/stack'; // first: points this process at the local stack before handler modules load
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { putDelivery } from '#db/items/webhook-delivery';
import { transact } from '#db/transact';
import { AGENCY_IN_FLIGHT_CAP } from '#domain/recharge/fairness';
import { newDelivery } from '#domain/recharge/open';
import { api, signUpAgency, waitFor } from '../support/api';
import { deliveriesOf, saveEndpoint } from '../support/recharge';
import { startReceiver } from '../support/webhook-receiver';

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A receiver that holds every request open until `release()`, counting how many are open at once. */
async function holdingReceiver() {
  const state = { open: 0, maxOpen: 0, released: false, hits: new Map<string, number>() };
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    state.open++;
    state.maxOpen = Math.max(state.maxOpen, state.open);
    res.on('close', () => state.open--); // answered, or the sender gave up (its timeout)
    res.on('error', () => {});
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      state.hits.set(id, (state.hits.get(id) ?? 0) + 1);
      if (state.released) res.writeHead(200).end();
      else held.push(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/recharge`,
    state,
    release() {
      state.released = true;
      for (const res of held.splice(0)) if (!res.destroyed) res.writeHead(200).end();
    },
  };
}

it("a slow agency's backlog does not delay another agency's delivery; waiting costs no attempt and loses nothing", async () => {
  const N = 60;
  const [slow, other] = await Promise.all([signUpAgency(), signUpAgency()]);
  const a = await holdingReceiver();
  await saveEndpoint(slow.token, a.url);
  let aTriedWhenBArrived: number | undefined;
  const b = await startReceiver(() => {
    aTriedWhenBArrived ??= a.state.hits.size;
    return 200;
  });
  closers.push(() => b.close());
  await saveEndpoint(other.token, b.url);

  // A's backlog, inserted as the test route inserts one (the insert queues it), 60 at once.
  const backlog = Array.from({ length: N }, (_, i) =>
    newDelivery(slow.agencyId, 'webhook.test', JSON.stringify({ type: 'webhook.test', n: i }), new Date()),
  );
  await transact(backlog.map(putDelivery));
  await waitFor(async () => a.state.open >= AGENCY_IN_FLIGHT_CAP, 30_000, "A's endpoint to hold the cap of POSTs");

  const sent = await api('POST', '/v1/reselling/auto-recharge-webhook/test', { token: other.token });
  expect(sent.status, sent.text).toBe(202);
  await waitFor(async () => (await deliveriesOf(other.token))[0]?.status === 'succeeded', 30_000, "B's delivery");
  // B went past A's queue: some of A's deliveries, queued before B's, had not been POSTed once
  // when B's arrived. (Without the cap B's message waits behind all of A's: A's 60 first POSTs
  // come first. With it A tries 5 per receiver timeout, 1.5 s here, retries included.)
  expect(aTriedWhenBArrived).toBeLessThan(N);

  a.release();
  const settled = await waitFor(
    async () => {
      const ds = await deliveriesOf(slow.token, '?limit=100');
      return ds.length === N && ds.every((d) => d.status !== 'pending') && ds;
    },
    90_000,
    "every one of A's deliveries to end",
  );
  expect(a.state.maxOpen).toBeLessThanOrEqual(AGENCY_IN_FLIGHT_CAP);
  const attemptsVsPosts = settled.map((d) => [d.id, d.attempts, a.state.hits.get(d.webhookId) ?? 0]);
  expect(attemptsVsPosts).toEqual(settled.map((d) => [d.id, d.attempts, d.attempts]));
  expect(settled.filter((d) => d.status === 'succeeded').length).toBeGreaterThan(N / 2);
}, 180_000);
