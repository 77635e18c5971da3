import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { type DynamoLocal, startDynamoLocal } from '#local/dynamodb';
import { freePort, type LocalStack, startLocalStack } from '#local/stack';
import { uniq, waitFor } from '../support/api';
import { type OwnClient, ownClient, sleep } from '../support/own-stack';

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
let engine: DynamoLocal;
let own: LocalStack;
let client: OwnClient;
const lines: string[] = [];

beforeAll(async () => {
  // The containers inherit this process's environment: their INFO lines show they log to the stack.
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  engine = await startDynamoLocal(await freePort(), undefined);
  own = await startLocalStack({
    lambdaConcurrency: 3,
    dynamoEndpoint: engine.endpoint,
    tableName: uniq('containers'),
    dynamoFidelity: { latency: false },
    testClock: true,
    queueVisibilitySeconds: 1,
    log: (line) => lines.push(line),
  });
  client = ownClient(own);
});
// A failed test shows what the stack logged about errors (a 500's cause is in the container's log).
beforeEach(() => {
  const from = lines.length;
  onTestFailed(() => {
    const errors = lines.slice(from).filter((l) => /error|"level":"(ERROR|WARN)"/i.test(l));
    console.error(`stack log, error lines of this test (${errors.length}):\n${errors.slice(0, 40).join('\n')}`);
  });
});
afterAll(async () => {
  await own?.stop();
  await engine?.stop();
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

describe('one busy balance debited from several containers (lanes)', () => {
  /** `n` debits of 1 credit on `accountId`, `parallel` at a time; every answer, in no order. */
  async function burst(accountId: string, n: number, parallel: number) {
    const answers: { status: number; code?: string; balanceAfter?: number | null }[] = [];
    let next = 0;
    const worker = async () => {
      while (next < n) {
        next++;
        const res = await client.call('POST', `/v1/accounts/${accountId}/usage`, {
          token: own.platformApiKey,
          headers: { 'idempotency-key': uniq('hot') },
          body: { type: 'ai_response', quantity: 1 },
        });
        answers.push({ status: res.status, code: res.body?.code, balanceAfter: res.body?.entry?.balanceAfter });
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    return answers;
  }
  const tally = (answers: { status: number; code?: string }[]) =>
    answers.reduce<Record<string, number>>((t, a) => {
      const k = `${a.status}${a.code ? ` ${a.code}` : ''}`;
      t[k] = (t[k] ?? 0) + 1;
      return t;
    }, {});

  it(
    'a pool of 300 and 400 debits from three containers under conflicts: lanes open, exactly 300 taken, no 5xx',
    async () => {
      const agency = await client.agency('agency');
      const topUp = await client.call('POST', `/v1/admin/agencies/${agency.id}/credits`, {
        token: own.platformApiKey,
        headers: { 'idempotency-key': uniq('topup') },
        body: { credits: 300, reference: 'hot pool' },
      });
      expect(topUp.status).toBe(201);
      const sub = await client.call('POST', '/v1/sub-accounts', {
        token: agency.token,
        body: { name: 'Hot', email: `${uniq('hot')}@example.test` },
      });
      // Transactions hold their items 40 ms: the three containers' debits of the one pool collide.
      own.fidelity?.configure({ latency: true, phi: 1, model: { transactionMs: 40, transactionSigma: 0, singleMs: 0 } });
      const answers = await burst(sub.body.subAccount.id, 400, 9);
      own.fidelity?.configure({ latency: false });

      // Every credit there was is taken, and only then 402: credits set aside in lanes never refused a debit.
      expect(tally(answers)).toEqual({ '201': 300, '402 insufficient_credits': 100 });
      // Debits answered while lanes were open name no running balance (there is none to name).
      expect(
        answers.some((a) => a.status === 201 && a.balanceAfter === null),
        'some debit went through a lane',
      ).toBe(true);
      const balance = await client.call('GET', '/v1/credits/balance', { token: agency.token });
      expect(balance.body.balance).toBe(0);
      let debited = 0;
      let cursor: string | null = null;
      do {
        const page: { body: { items: { type: string }[]; nextCursor: string | null } } = await client.call(
          'GET',
          `/v1/credits/transactions?limit=200${cursor ? `&cursor=${cursor}` : ''}`,
          { token: agency.token },
        );
        debited += page.body.items.filter((e) => e.type === 'ai_response').length;
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(debited).toBe(300);
    },
    SLOW,
  );

  it(
    'a sub-account limited to 150 a month, 200 debits from three containers: exactly 150, then credit_limit_reached',
    async () => {
      const agency = await client.agency('agency');
      await client.call('POST', `/v1/admin/agencies/${agency.id}/credits`, {
        token: own.platformApiKey,
        headers: { 'idempotency-key': uniq('topup') },
        body: { credits: 1000, reference: 'hot limit' },
      });
      const sub = await client.call('POST', '/v1/sub-accounts', {
        token: agency.token,
        body: { name: 'Limited', email: `${uniq('limited')}@example.test` },
      });
      const id = sub.body.subAccount.id;
      expect(
        (await client.call('PATCH', `/v1/sub-accounts/${id}`, { token: agency.token, body: { monthlyCreditLimit: 150 } })).status,
      ).toBe(200);
      own.fidelity?.configure({ latency: true, phi: 1, model: { transactionMs: 40, transactionSigma: 0, singleMs: 0 } });
      const answers = await burst(id, 200, 9);
      own.fidelity?.configure({ latency: false });

      expect(tally(answers)).toEqual({ '201': 150, '402 credit_limit_reached': 50 });
      const balance = await client.call('GET', '/v1/credits/balance', { token: agency.token });
      expect(balance.body.balance).toBe(850);
    },
    SLOW,
  );
});
