import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../packages/local/stack';
import { uniq, waitFor } from '../support/api';
import { type OwnClient, ownClient, sleep } from '../support/own-stack';
import { stack as shared } from '../support/stack';

/**
 * A local stack of its own as `LOCAL_LAMBDA_CONCURRENCY=3 DYNAMODB_ENDPOINT=… DYNAMODB_FIDELITY=on
 * npm start` runs: every function in up to three container processes, the shared test stack's
 * DynamoDB Local as an endpoint it did not start (a table of its own), and the fidelity proxy in
 * front of it. The API, the stream and queue workers and the test clock work as in-process;
 * and the ledger, debited from several containers at once through AWS's conflict rules, still
 * moves every credit exactly once and never below zero.
 */
/** Each container cold-starts (imports its function's module graph) on a 2-core machine shared with other work. */
const SLOW = 240_000;
let own: LocalStack;
let client: OwnClient;
const lines: string[] = [];

beforeAll(async () => {
  // The containers inherit this process's environment: their INFO lines show they log to the stack.
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  own = await startLocalStack({
    lambdaConcurrency: 3,
    dynamoEndpoint: shared.dynamoEndpoint,
    tableName: uniq('containers'),
    dynamoFidelity: { latency: false },
    testClock: true,
    queueVisibilitySeconds: 1,
    log: (line) => lines.push(line),
  });
  client = ownClient(own);
});
afterAll(async () => {
  await own?.stop();
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
});

describe('the local stack with container processes and the fidelity proxy', () => {
  it(
    'serves the API and the workers from containers, at the clock a request pins',
    async () => {
      const at = '2026-05-15T12:00:00.000Z';
      const signUp = await client.call('POST', '/v1/agencies', {
        body: { agencyName: 'Clocked', name: 'Owner', email: `${uniq('clock')}@example.test`, password: `pw-${uniq('secret')}` },
        headers: { 'x-test-clock': at },
      });
      expect(signUp.status).toBe(201);
      expect(signUp.body.agency.createdAt).toBe(at);

      // Sign-up, plan, the verification email (stream → forwarder → queue → notifier → SES) and its link.
      await client.agency('agency');
      const stats = own.lambdaStats();
      for (const fn of ['public', 'admin', 'forwarder', 'notifier']) expect(stats[fn]?.containers, fn).toBeGreaterThanOrEqual(1);
      expect(Math.max(...Object.values(stats).map((s) => s.containers))).toBeLessThanOrEqual(3);
      await waitFor(
        async () => lines.some((l) => /^notifier#\d \{.*"message":"outbox event delivered"/.test(l)),
        10_000,
        'a notifier line',
      );
    },
    SLOW,
  );

  it(
    'debits one pool from several containers under transaction conflicts: each credit moves once, never below zero',
    async () => {
      const agency = await client.agency('agency');
      const topUp = await client.call('POST', `/v1/admin/agencies/${agency.id}/credits`, {
        token: own.platformApiKey,
        headers: { 'idempotency-key': uniq('topup') },
        body: { credits: 10, reference: 'fidelity' },
      });
      expect(topUp.status).toBe(201);
      const sub = await client.call('POST', '/v1/sub-accounts', {
        token: agency.token,
        body: { name: 'Busy', email: `${uniq('busy')}@example.test` },
      });
      expect(sub.status).toBe(201);

      // Each transaction holds its items 300 ms: concurrent debits of the one pool overlap for sure.
      own.fidelity?.configure({ latency: true, phi: 1, model: { transactionMs: 300, transactionSigma: 0, singleMs: 0 } });
      await own.fidelity?.reset();
      const debit = async (i: number) => {
        const key = uniq(`debit-${i}`);
        for (let attempt = 1; ; attempt++) {
          const res = await client.call('POST', `/v1/accounts/${sub.body.subAccount.id}/usage`, {
            token: own.platformApiKey,
            headers: { 'idempotency-key': key },
            body: { type: 'ai_response', quantity: 1 },
          });
          // 503 try_again: retried with the same key after a pause, as a client is told to.
          if (res.status !== 503 || attempt === 20) return res;
          await sleep(300);
        }
      };
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => debit(i)));
      own.fidelity?.configure({ latency: false });

      const statuses = answers.map((a) => `${a.status} ${a.body?.code ?? ''}`.trim()).sort();
      expect(statuses).toEqual([...Array(10).fill('201'), '402 insufficient_credits', '402 insufficient_credits']);
      const balance = await client.call('GET', '/v1/credits/balance', { token: agency.token });
      expect(balance.body.balance).toBe(0);
      const { totals } = (await own.fidelity?.stats()) ?? { totals: undefined };
      expect(totals?.conflicts).toBeGreaterThan(0);
      expect(own.lambdaStats().usage?.containers).toBeGreaterThan(1);
    },
    SLOW,
  );
});
