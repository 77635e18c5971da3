/**
 * `npm run bench -- --recharge`: auto-recharge against the local stack started by the bench.
 *
 * 1. Threshold crossing → first webhook POST received by a receiver on 127.0.0.1: a debit
 *    leaves a reselling wallet below its threshold; the clock starts when the debit's 201 is
 *    back (the crossing is committed) and stops when the receiver has the POST's body. Between
 *    the two: the detector's stream poller, the transaction opening the request and its
 *    delivery, the poller again (the delivery's insert), SQS, the sender's queue poller, the
 *    address check and the POST. Then the request is closed by a grant and the next crossing
 *    starts, one at a time.
 * 2. Deliveries/s the sender sustains: `webhook.test` events queued as fast as the API takes
 *    them, counted when the receiver has them all (it answers 200 at once). Spread over agencies
 *    10 each (the API's limit per agency and hour), as many agencies' webhooks share the queue.
 *
 * The local pollers: the stream pollers read the stream every 100 ms (a 100 ms sleep after each
 * read), the queue pollers receive with no long poll and sleep 100 ms when the queue is empty;
 * the webhook sender's poller runs up to 4 batches of 10 at once.
 */

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { limits } from '#domain/auth/throttle';
import type { LocalStackInfo } from '#local/stack';
import { emailedToken, jsonCaller } from '../lib/local-api';
import { percentile } from './figures';

/** Test events one agency may send per hour. */
const PER_AGENCY = limits.webhookTest.max;

export async function benchRecharge(stack: LocalStackInfo, crossings = 40, deliveries = 300) {
  const run = randomBytes(3).toString('hex');
  const call = jsonCaller(stack.apiUrl);

  // The receiver: notes when each POST's body is in (by type), answers 200.
  const arrivals: { at: number; payload: any }[] = [];
  let waiter: ((payload: any) => void) | undefined;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c;
    });
    req.on('end', () => {
      const payload = JSON.parse(body);
      arrivals.push({ at: performance.now(), payload });
      waiter?.(payload);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

  /** An Agency-plan agency, its email verified and its endpoint the receiver; its token. */
  const newAgency = async (label: string) => {
    const email = `recharge-${run}-${label}@bench.test`;
    const signup = await call('POST', '/v1/agencies', {
      body: { agencyName: `Bench recharge ${label}`, name: 'B', email, password: 'bench-password-1' },
    });
    await call('PATCH', `/v1/admin/agencies/${signup.agency.id}`, { token: stack.platformApiKey, body: { plan: 'agency' } });
    await call('POST', '/v1/auth/verify-email', { body: { token: await emailedToken(stack.sesUrl, email) } });
    await call('PUT', '/v1/reselling/auto-recharge-webhook', { token: signup.token, body: { url } });
    return { id: signup.agency.id as string, token: signup.token as string };
  };
  const { id: agencyId, token } = await newAgency('crossings');
  await call('POST', `/v1/admin/agencies/${agencyId}/credits`, {
    token: stack.platformApiKey,
    money: true,
    body: { credits: 1_000_000, reference: 'bench' },
  });
  const sub = (
    await call('POST', '/v1/sub-accounts', {
      token,
      body: { name: 'Bench client', email: `c-${run}@bench.test`, clientLogin: false },
    })
  ).subAccount.id as string;
  await call('PATCH', `/v1/sub-accounts/${sub}`, { token, body: { creditMode: 'reselling' } });
  await call('POST', `/v1/sub-accounts/${sub}/credits/grants`, { token, money: true, body: { credits: 60 } });
  await call('PATCH', `/v1/sub-accounts/${sub}`, {
    token,
    body: { autoRecharge: { enabled: true, threshold: 50, credits: 20 } },
  });

  const latencies: number[] = [];
  for (let i = 0; i < crossings + 3; i++) {
    const arrived = new Promise<any>((resolve) => {
      waiter = (p) => p.type === 'credits.recharge_requested' && resolve(p);
    });
    // 60 → 40: below 50.
    await call('POST', `/v1/accounts/${sub}/usage`, {
      token: stack.platformApiKey,
      money: true,
      body: { type: 'ai_response', quantity: 20 },
    });
    const crossed = performance.now();
    const payload = await arrived;
    if (i >= 3) latencies.push(arrivals.at(-1)!.at - crossed); // the first three warm the pollers and modules up
    await call('POST', `/v1/sub-accounts/${sub}/credits/grants`, {
      token,
      money: true,
      body: { credits: 20, requestId: payload.data.requestId },
    });
  }
  waiter = undefined;

  // Throughput: `deliveries` test events over agencies of 10, 16 requests at a time, until the receiver has them all.
  const senders: string[] = [];
  for (let i = 0; i * PER_AGENCY < deliveries; i += 8) {
    const batch = Array.from({ length: Math.min(8, Math.ceil(deliveries / PER_AGENCY) - i) }, (_, j) => newAgency(`t${i + j}`));
    for (const a of await Promise.all(batch)) senders.push(a.token);
  }
  const before = arrivals.length;
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let n = next++; n < deliveries; n = next++)
        await call('POST', '/v1/reselling/auto-recharge-webhook/test', { token: senders[n % senders.length] });
    }),
  );
  const queued = performance.now();
  while (arrivals.length - before < deliveries) await new Promise((r) => setTimeout(r, 10));
  const batch = arrivals.slice(before);
  const finished = batch.at(-1)!.at;
  server.close();

  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    crossings: latencies.length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
    deliveries,
    queueSeconds: (queued - started) / 1000,
    /** From the first test event queued to the last POST received (the API's share included). */
    endToEndPerSecond: deliveries / ((finished - started) / 1000),
    /** Between the first and the last POST received: what the sender kept up. */
    deliveriesPerSecond: (deliveries - 1) / ((finished - batch[0]!.at) / 1000),
  };
}
