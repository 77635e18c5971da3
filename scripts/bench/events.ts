/**
 * `npm run bench -- --events`: event webhooks against the local stack started by the bench.
 *
 * Action → first POST of its event at a receiver on 127.0.0.1: the clock starts when the
 * action's answer is back (its change is committed) and stops when the receiver has the
 * POST's body. Between the two: the detector's stream poller (the event is produced and its
 * delivery written), the poller again (the delivery's insert queues it), SQS, the sender's
 * queue poller, the address check and the POST.
 * 1. One at a time: a sub-account's name changed (`sub_account.updated`), `events` times
 *    after three to warm the pollers and modules up.
 * 2. A burst: `events` sub-accounts' names changed at once, each event timed from its own PATCH's answer.
 */

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LocalStackInfo } from '#local/stack';
import { emailedToken, jsonCaller } from '../lib/local-api';
import { percentile } from './figures';

export async function benchEvents(stack: LocalStackInfo, events = 50) {
  const run = randomBytes(3).toString('hex');
  const call = jsonCaller(stack.apiUrl);

  // The receiver: when each event's body is in, by the sub-account it names.
  const arrivals = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c;
    });
    req.on('end', () => {
      const at = performance.now();
      const payload = JSON.parse(body);
      const key = `${payload.data?.subAccount?.id}:${payload.data?.subAccount?.name}`;
      if (!arrivals.has(key)) arrivals.set(key, at);
      waiters.get(key)?.();
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;

  const email = `events-${run}@bench.test`;
  const signup = await call('POST', '/v1/agencies', {
    body: { agencyName: 'Bench events', name: 'B', email, password: 'bench-password-1' },
  });
  const token = signup.token as string;
  await call('PATCH', `/v1/admin/agencies/${signup.agency.id}`, { token: stack.platformApiKey, body: { plan: 'agency' } });
  await call('POST', '/v1/auth/verify-email', { body: { token: await emailedToken(stack.sesUrl, email) } });
  await call('POST', '/v1/webhook-endpoints', { token, body: { url, events: ['sub_account.updated'] } });
  const subs: string[] = [];
  for (let i = 0; i < events; i++) {
    const created = await call('POST', '/v1/sub-accounts', {
      token,
      body: { name: `Client ${i}`, email: `c${i}-${run}@bench.test`, clientLogin: false },
    });
    subs.push(created.subAccount.id as string);
  }

  /** PATCHes the name; resolves with the ms from the PATCH's answer to the event's POST. */
  const rename = async (sub: string, name: string) => {
    const key = `${sub}:${name}`;
    const arrived = new Promise<void>((resolve) => waiters.set(key, resolve));
    await call('PATCH', `/v1/sub-accounts/${sub}`, { token, body: { name } });
    const answered = performance.now();
    await arrived;
    waiters.delete(key);
    return (arrivals.get(key) as number) - answered;
  };

  const sequential: number[] = [];
  for (let i = 0; i < events + 3; i++) {
    const ms = await rename(subs[0] as string, `Renamed ${i}`);
    if (i >= 3) sequential.push(ms);
  }
  const burst = await Promise.all(subs.map((sub) => rename(sub, `Burst ${sub}`)));
  server.close();

  const figures = (list: number[]) => {
    const sorted = [...list].sort((a, b) => a - b);
    return { n: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? Number.NaN };
  };
  return { sequential: figures(sequential), burst: figures(burst) };
}
