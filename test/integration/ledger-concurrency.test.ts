import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handler as creditsHandler } from '../../functions/http/credits';
import { handler as usageHandler } from '../../functions/http/usage';
import { dynamo } from '../../packages/db/client';
import { poolKey, walletKey } from '../../packages/db/items/balance';
import { accountHint } from '../../packages/domain/ledger/account-hints';
import { balanceHint } from '../../packages/domain/ledger/balance-state';
import { ledgerStats } from '../../packages/domain/ledger/stats';
import { type AgencyFixture, api, createSubAccount, signUpAgency, uniq } from '../support/api';
import { invoke } from '../support/invoke';
import { ledgerEntries as entriesOf, poolBalance, sumFor, walletBalance } from '../support/ledger';
import { stack } from '../support/stack';

/**
 * The ledger's money properties under concurrency: never below zero, every movement an entry,
 * every money call idempotent, conflicts retried or refused with nothing written. Requests
 * come from two "containers" at once — the local gateway's process (over HTTP) and this test
 * process (the same handler module, invoked in-process) — so their optimistic version checks
 * really race each other.
 */
const platform = stack.platformApiKey;
/**
 * Every money move and every read of a month's meter runs at this instant (the test stack's
 * `x-test-clock`, `withClock` in process): noon in the middle of a month, so a run at a real
 * month end cannot split one test's debits over two months.
 */
const AT = '2026-05-15T12:00:00.000Z';

async function topUp(agencyId: string, credits: number) {
  const res = await api('POST', `/v1/admin/agencies/${agencyId}/credits`, {
    token: platform,
    headers: { 'idempotency-key': uniq('topup') },
    body: { credits, reference: 'test top-up' },
    clock: AT,
  });
  expect(res.status).toBe(201);
}

/**
 * A 503 (DynamoDB Local timing out on a machine under load, or a busy balance) is retried with
 * the same Idempotency-Key after its Retry-After, as a client is told to: the debit must still
 * land exactly once, which the tallies and the balanceAfter countdown check.
 */
async function asAClientWould<T extends { status: number }>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const res = await send();
    if (res.status !== 503 || attempt === 5) return res;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/**
 * n one-credit debits, alternating between HTTP (gateway process) and in-process invocation.
 * The in-process half starts once the gateway has committed one of its debits: by then the
 * gateway is working through the rest of its queue, so the two really overlap (were one side
 * still cold-starting, the other could finish alone and nothing would race).
 */
async function debitConcurrently(accountId: string, n: number) {
  let gatewayStarted = () => {};
  const gatewayCommitted = new Promise<void>((resolve) => {
    gatewayStarted = resolve;
  });
  let gatewayDone = 0;
  return Promise.all<{ status: number; code?: string; via: 'gateway' | 'test process' }>(
    Array.from({ length: n }, async (_, i) => {
      const key = `${uniq('debit')}-${i}`;
      const body = { type: 'ai_response', quantity: 1, conversationId: `conv-${i}` };
      if (i % 2 === 0) {
        const res = await asAClientWould(() =>
          api('POST', `/v1/accounts/${accountId}/usage`, {
            token: platform,
            headers: { 'idempotency-key': key },
            body,
            clock: AT,
          }),
        );
        if (res.status === 201 || ++gatewayDone === Math.ceil(n / 2)) gatewayStarted();
        return { status: res.status, code: res.body?.code as string | undefined, via: 'gateway' };
      }
      await gatewayCommitted; // (or every gateway debit was refused: then the test says so)
      const res = await asAClientWould(() =>
        invoke(usageHandler, 'POST /v1/accounts/{accountId}/usage', {
          params: { accountId },
          token: platform,
          headers: { 'idempotency-key': key },
          body,
          clock: AT,
        }),
      );
      return { status: res.status, code: res.body?.code as string | undefined, via: 'test process' };
    }),
  );
}

/**
 * Runs n debits (debitConcurrently) and proves the two containers really raced on the balance.
 * Within one process `oneAtATime` queues the debits of one balance, and each commit leaves that
 * container's hint current; so every write here that met a moved version (`ledgerStats.movedVersions`) met
 * a commit by the gateway's process between this one's read of the version and its write.
 * (Who wins is not asserted: the container that just committed knows the new version and
 * often keeps winning, as the README's container bench shows.)
 */
async function racing(accountId: string, n: number) {
  // This container is warm, as a container that debited this balance before is: it holds its
  // hints. The gateway commits before this side starts (debitConcurrently), so at least this
  // side's first attempt meets a version another container moved, however loaded the machine.
  const hint = await accountHint(accountId);
  if (!hint) throw new Error(`no account ${accountId}`);
  await balanceHint(
    hint.type === 'sub_account' && hint.creditMode === 'reselling' ? walletKey(accountId) : poolKey(hint.agencyId),
  );
  const movedBefore = ledgerStats.movedVersions;
  const results = await debitConcurrently(accountId, n);
  const crossProcess = ledgerStats.movedVersions - movedBefore;
  expect(crossProcess, 'writes here that met a version the other container had moved').toBeGreaterThan(0);
  return results;
}

function tally(results: { status: number; code?: string }[]) {
  const count = (pred: (r: { status: number; code?: string }) => boolean) => results.filter(pred).length;
  return {
    ok: count((r) => r.status === 201),
    insufficient: count((r) => r.status === 402 && r.code === 'insufficient_credits'),
    limited: count((r) => r.status === 402 && r.code === 'credit_limit_reached'),
    other: results.filter((r) => r.status !== 201 && r.status !== 402),
  };
}

describe('concurrent debits', () => {
  let agency: AgencyFixture;
  beforeAll(async () => {
    agency = await signUpAgency('agency');
  });

  it('200 parallel 1-credit debits against a pool of 100: exactly 100 succeed, balance 0, entries sum to it', async () => {
    const a = await signUpAgency('agency');
    await topUp(a.agencyId, 100);
    const sub = await createSubAccount(a.token);
    const results = await racing(sub.subAccountId, 200);
    expect(tally(results)).toEqual({ ok: 100, insufficient: 100, limited: 0, other: [] });
    expect(await poolBalance(a.agencyId)).toBe(0);
    const entries = await entriesOf(a.agencyId);
    expect(entries).toHaveLength(101);
    expect(sumFor(entries, { pool: true })).toBe(0);
    // balanceAfter values are a permutation-free countdown: each balance was seen exactly once.
    const after = entries
      .filter((e) => e.type === 'ai_response')
      .map((e) => e.balanceAfter)
      .sort((x, y) => x - y);
    expect(after).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('the same against a reselling wallet', async () => {
    await topUp(agency.agencyId, 100);
    const sub = await createSubAccount(agency.token);
    expect(
      (await api('PATCH', `/v1/sub-accounts/${sub.subAccountId}`, { token: agency.token, body: { creditMode: 'reselling' } }))
        .status,
    ).toBe(200);
    const grant = await api('POST', `/v1/sub-accounts/${sub.subAccountId}/credits/grants`, {
      token: agency.token,
      headers: { 'idempotency-key': uniq('grant') },
      body: { credits: 100, reference: 'paid invoice' },
      clock: AT,
    });
    expect(grant.status).toBe(201);
    const results = await racing(sub.subAccountId, 200);
    expect(tally(results)).toEqual({ ok: 100, insufficient: 100, limited: 0, other: [] });
    expect(await walletBalance(sub.subAccountId)).toBe(0);
    expect(sumFor(await entriesOf(agency.agencyId), { wallet: sub.subAccountId })).toBe(0);
  });

  it('the same against a monthly limit: 100 within the limit, the rest refused, the pool keeps the difference', async () => {
    const a = await signUpAgency('agency');
    await topUp(a.agencyId, 1000);
    const sub = await createSubAccount(a.token);
    expect(
      (await api('PATCH', `/v1/sub-accounts/${sub.subAccountId}`, { token: a.token, body: { monthlyCreditLimit: 100 } })).status,
    ).toBe(200);
    const results = await racing(sub.subAccountId, 200);
    expect(tally(results)).toEqual({ ok: 100, insufficient: 0, limited: 100, other: [] });
    expect(await poolBalance(a.agencyId)).toBe(900);
    expect(sumFor(await entriesOf(a.agencyId), { pool: true })).toBe(900);
    const listed = await api('GET', `/v1/sub-accounts/${sub.subAccountId}`, { token: a.token, clock: AT });
    expect(listed.body.subAccount.creditsUsedThisMonth).toBe(100);
  });
});

describe('concurrent grants and debits on one pool', () => {
  // Proves a grant takes from the pool in the same atomic write as the debits do: racing
  // grants (two "containers") and debits never take the pool below zero, every credit that
  // left the pool is in a wallet or charged, and each pool entry's balanceAfter is one link
  // of a single chain from the top-up down.
  it('30 grants of 5 and 60 debits of 1 against a pool of 100: never overdrawn, every credit accounted for', async () => {
    const a = await signUpAgency('agency');
    await topUp(a.agencyId, 100);
    const manual = await createSubAccount(a.token);
    const resellers = [await createSubAccount(a.token), await createSubAccount(a.token)];
    for (const r of resellers) {
      const res = await api('PATCH', `/v1/sub-accounts/${r.subAccountId}`, { token: a.token, body: { creditMode: 'reselling' } });
      expect(res.status).toBe(200);
    }
    const grants = Array.from({ length: 30 }, async (_, i) => {
      const subAccountId = resellers[i % 2]!.subAccountId;
      const headers = { 'idempotency-key': `${uniq('grant')}-${i}` };
      const body = { credits: 5, reference: `race ${i}` };
      const res =
        i % 4 < 2
          ? await api('POST', `/v1/sub-accounts/${subAccountId}/credits/grants`, { token: a.token, headers, body, clock: AT })
          : await invoke(creditsHandler, 'POST /v1/sub-accounts/{subAccountId}/credits/grants', {
              params: { subAccountId },
              token: a.token,
              headers,
              body,
              clock: AT,
            });
      return { status: res.status, code: res.body?.code as string | undefined };
    });
    const [granted, debited] = await Promise.all([Promise.all(grants), debitConcurrently(manual.subAccountId, 60)]);

    const g = tally(granted);
    const d = tally(debited);
    expect(g.other).toEqual([]);
    expect(d.other).toEqual([]);
    expect(g.limited + d.limited).toBe(0);
    const pool = await poolBalance(a.agencyId);
    const wallets = await Promise.all(resellers.map((r) => walletBalance(r.subAccountId)));
    expect(pool).toBeGreaterThanOrEqual(0);
    expect(pool).toBe(100 - 5 * g.ok - d.ok);
    expect(wallets[0]! + wallets[1]!).toBe(5 * g.ok);
    // Refused only for want of credits: once refused, the pool stayed below that amount.
    if (g.insufficient) expect(pool).toBeLessThan(5);
    if (d.insufficient) expect(pool).toBe(0);
    expect(g.ok + g.insufficient).toBe(30);
    expect(d.ok + d.insufficient).toBe(60);

    const entries = await entriesOf(a.agencyId);
    expect(sumFor(entries, { pool: true })).toBe(pool);
    for (const r of resellers) expect(sumFor(entries, { wallet: r.subAccountId })).toBe(await walletBalance(r.subAccountId));
    const out = entries.filter((e) => e.balanceKind === 'pool' && e.credits < 0).sort((x, y) => y.balanceAfter - x.balanceAfter);
    expect(out).toHaveLength(g.ok + d.ok);
    out.forEach((e, i) => {
      expect(e.balanceAfter - e.credits, `pool entry ${i}`).toBe(i === 0 ? 100 : out[i - 1]!.balanceAfter);
    });
  });
});

describe('idempotency', () => {
  let agency: AgencyFixture;
  let subAccountId: string;
  beforeAll(async () => {
    agency = await signUpAgency('agency');
    await topUp(agency.agencyId, 1000);
    subAccountId = (await createSubAccount(agency.token)).subAccountId;
  });

  const usage = (key: string, body: unknown) =>
    api('POST', `/v1/accounts/${subAccountId}/usage`, { token: platform, headers: { 'idempotency-key': key }, body });

  it('the same key sequentially returns the first response and moves nothing more', async () => {
    const key = uniq('seq');
    const body = { type: 'campaign_message', quantity: 5, campaignId: 'cmp_1', contactId: 'c_1' };
    const first = await usage(key, body);
    const second = await usage(key, body);
    const third = await usage(key, { contactId: 'c_1', quantity: 5, campaignId: 'cmp_1', type: 'campaign_message' });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(third.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    const entries = (await entriesOf(agency.agencyId)).filter((e) => e.idempotencyKey === key);
    expect(entries).toHaveLength(1);
  });

  it('the same key 20 times concurrently: one entry, identical bodies', async () => {
    const key = uniq('burst');
    const body = { type: 'ai_response', quantity: 3, conversationId: 'conv-burst' };
    const before = await poolBalance(agency.agencyId);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0
          ? usage(key, body).then((r) => ({ status: r.status, body: r.body }))
          : invoke(usageHandler, 'POST /v1/accounts/{accountId}/usage', {
              params: { accountId: subAccountId },
              token: platform,
              headers: { 'idempotency-key': key },
              body,
            }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(201));
    for (const r of results) expect(r.body).toEqual(results[0]!.body);
    expect((await entriesOf(agency.agencyId)).filter((e) => e.idempotencyKey === key)).toHaveLength(1);
    expect(await poolBalance(agency.agencyId)).toBe(before - 3);
  });

  it('the same key with another body is 409 idempotency_key_reused and moves nothing', async () => {
    const key = uniq('reuse');
    expect((await usage(key, { type: 'ai_response', quantity: 1 })).status).toBe(201);
    const before = await poolBalance(agency.agencyId);
    const other = await usage(key, { type: 'ai_response', quantity: 2 });
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('idempotency_key_reused');
    expect(await poolBalance(agency.agencyId)).toBe(before);
  });

  it('a refusal is remembered too: the same key stays refused after a top-up, a new key succeeds', async () => {
    const a = await signUpAgency('agency');
    await topUp(a.agencyId, 5);
    const sub = await createSubAccount(a.token);
    const key = uniq('refused');
    const body = { type: 'ai_response', quantity: 10 };
    const send = (k: string) =>
      api('POST', `/v1/accounts/${sub.subAccountId}/usage`, { token: platform, headers: { 'idempotency-key': k }, body });
    const first = await send(key);
    expect(first.status).toBe(402);
    await topUp(a.agencyId, 100);
    const again = await send(key);
    expect(again.status).toBe(402);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await poolBalance(a.agencyId)).toBe(105);
    expect((await send(uniq('fresh'))).status).toBe(201);
    expect(await poolBalance(a.agencyId)).toBe(95);
  });

  it('a retry after the response was lost (fault after the commit) returns the first result', async () => {
    const key = uniq('lost');
    const body = { type: 'ai_response', quantity: 7 };
    const before = await poolBalance(agency.agencyId);
    let dropped = 0;
    const name = 'drop-transact-response';
    dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'TransactWriteItemsCommand' && dropped === 0) {
          dropped++;
          throw Object.assign(new Error('socket hang up after commit'), { name: 'LostResponse' });
        }
        return out;
      },
      { step: 'initialize', name },
    );
    let first;
    try {
      first = await invoke(usageHandler, 'POST /v1/accounts/{accountId}/usage', {
        params: { accountId: subAccountId },
        token: platform,
        headers: { 'idempotency-key': key },
        body,
      });
    } finally {
      dynamo.middlewareStack.remove(name);
    }
    expect(dropped).toBe(1);
    // A lost answer from DynamoDB is a dependency failure: the client is told to retry (503).
    expect(first.status).toBe(503);
    expect(first.body.code).toBe('service_unavailable');
    expect(Number(first.headers['retry-after'])).toBeGreaterThan(0);
    expect(await poolBalance(agency.agencyId)).toBe(before - 7); // it did commit

    const retry = await usage(key, body);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    const entries = (await entriesOf(agency.agencyId)).filter((e) => e.idempotencyKey === key);
    expect(entries, 'exactly one entry for the key').toHaveLength(1);
    expect(retry.body.entry.id).toBe(entries[0]!.id);
    expect(await poolBalance(agency.agencyId)).toBe(before - 7);
  });
});

describe('transaction conflicts (injected: DynamoDB Local never raises them)', () => {
  let agency: AgencyFixture;
  let subAccountId: string;
  const name = 'inject-transaction-conflict';
  beforeAll(async () => {
    agency = await signUpAgency('agency');
    await topUp(agency.agencyId, 100);
    subAccountId = (await createSubAccount(agency.token)).subAccountId;
  });
  afterEach(() => {
    dynamo.middlewareStack.remove(name);
  });

  function injectConflicts(times: number) {
    let injected = 0;
    dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'TransactWriteItemsCommand' && injected < times) {
          injected++;
          throw new TransactionCanceledException({
            message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]',
            $metadata: {},
            CancellationReasons: [
              { Code: 'None' },
              { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' },
            ],
          });
        }
        return next(args);
      },
      { step: 'initialize', name },
    );
    return () => injected;
  }

  const call = (key: string) =>
    invoke(usageHandler, 'POST /v1/accounts/{accountId}/usage', {
      params: { accountId: subAccountId },
      token: platform,
      headers: { 'idempotency-key': key },
      body: { type: 'ai_response', quantity: 2 },
    });

  it('a conflict is retried with backoff and the debit succeeds once', async () => {
    const injected = injectConflicts(2);
    const before = await poolBalance(agency.agencyId);
    const key = uniq('conflict');
    const res = await call(key);
    expect(injected()).toBe(2);
    expect(res.status).toBe(201);
    expect(await poolBalance(agency.agencyId)).toBe(before - 2);
    expect((await entriesOf(agency.agencyId)).filter((e) => e.idempotencyKey === key)).toHaveLength(1);
  });

  it('a persistent conflict answers 503 try_again with nothing written', async () => {
    const injected = injectConflicts(Number.POSITIVE_INFINITY);
    const before = await poolBalance(agency.agencyId);
    const entriesBefore = (await entriesOf(agency.agencyId)).length;
    const res = await call(uniq('stuck'));
    expect(injected()).toBeGreaterThan(1);
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('try_again');
    expect(res.headers['retry-after']).toBe('1');
    expect(await poolBalance(agency.agencyId)).toBe(before);
    expect((await entriesOf(agency.agencyId)).length).toBe(entriesBefore);
  });
});

describe('the monthly meter rolls over', () => {
  it('a meter left on last month restarts at this charge, with the limit applied afresh', async () => {
    const a = await signUpAgency('agency');
    await topUp(a.agencyId, 1000);
    const sub = await createSubAccount(a.token);
    expect(
      (await api('PATCH', `/v1/sub-accounts/${sub.subAccountId}`, { token: a.token, body: { monthlyCreditLimit: 50 } })).status,
    ).toBe(200);
    const charge = (quantity: number) =>
      api('POST', `/v1/accounts/${sub.subAccountId}/usage`, {
        token: platform,
        headers: { 'idempotency-key': uniq('m') },
        body: { type: 'ai_response', quantity },
        clock: AT,
      });
    expect((await charge(40)).status).toBe(201); // the gateway now remembers this month's meter

    // As if those 40 were spent last month: the stored meter is on the previous month.
    const { testDb } = await import('../support/table');
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    await testDb.send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: { pk: `ACCOUNT#${sub.subAccountId}`, sk: 'ACCOUNT' },
        UpdateExpression: 'SET meterMonth = :last',
        ExpressionAttributeValues: { ':last': '2000-01' },
      }),
    );

    // The limit is fresh: 45 fits although 40 + 45 > 50 within one month.
    expect((await charge(45)).status).toBe(201);
    const after = await api('GET', `/v1/sub-accounts/${sub.subAccountId}`, { token: a.token, clock: AT });
    expect(after.body.subAccount.creditsUsedThisMonth).toBe(45);
    const over = await charge(6);
    expect(over.status).toBe(402);
    expect(over.body.code).toBe('credit_limit_reached');
    expect((await charge(5)).status).toBe(201);
    expect(await poolBalance(a.agencyId)).toBe(1000 - 40 - 45 - 5);
  });
});
