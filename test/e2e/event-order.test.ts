/**
 * Events about one subject reach an endpoint in the order they were made, even when they are
 * made faster than the receiver answers: a first attempt waits for the one made before it under
 * the same endpoint and subject (send.ts, `earlierStillUnsent`). The receiver takes its time
 * over every answer, so two deliveries sent side by side would overlap; none may.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { api, createSubAccount, signUpAgency, waitFor } from '../support/api';
import { expectStatus } from '../support/ledger';
import { type Hit, verify } from '../support/webhook-receiver';

interface Timed {
  hit: Hit;
  answeredAt?: number;
}

/** A 127.0.0.1 receiver that answers every request 200 after `holdMs`, noting when each arrived and was answered. */
async function slowReceiver(holdMs: number) {
  const received: Timed[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk;
    });
    req.on('end', () => {
      const timed: Timed = { hit: { headers: req.headers, body, at: Date.now() } };
      received.push(timed);
      setTimeout(() => {
        timed.answeredAt = Date.now();
        res.end('ok');
      }, holdMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, received, server };
}

const servers: http.Server[] = [];
afterAll(() => {
  for (const s of servers) s.closeAllConnections();
});

describe('event webhooks, per subject in order', () => {
  it("delivers one sub-account's quick changes one after another, in the order they were made", async () => {
    const agency = await signUpAgency('agency');
    const r = await slowReceiver(600);
    servers.push(r.server);
    const made = await api('POST', '/v1/webhook-endpoints', {
      token: agency.token,
      body: { url: r.url, events: ['sub_account.updated'] },
    });
    const { secret } = expectStatus(made, 201, 'endpoint').body as { secret: string };
    const { subAccountId } = await createSubAccount(agency.token);

    const names = ['First', 'Second', 'Third', 'Fourth'];
    for (const name of names) {
      expectStatus(await api('PATCH', `/v1/sub-accounts/${subAccountId}`, { token: agency.token, body: { name } }), 200);
    }
    await waitFor(async () => r.received.length >= names.length && r.received.every((t) => t.answeredAt), 30_000);

    const events = r.received.map((t) => verify(t.hit, secret));
    expect(events.map((e) => [e.type, e.data.subAccount.id, e.data.subAccount.name])).toEqual(
      names.map((name) => ['sub_account.updated', subAccountId, name]),
    );
    expect(events.map((e) => e.createdAt)).toEqual(events.map((e) => e.createdAt).sort());
    // Each arrived after the one before it was answered: never two in flight at once.
    for (let i = 1; i < r.received.length; i++) {
      expect(r.received[i]!.hit.at, `delivery ${i} arrived before ${i - 1} was answered`).toBeGreaterThanOrEqual(
        r.received[i - 1]!.answeredAt as number,
      );
    }
  });
});
