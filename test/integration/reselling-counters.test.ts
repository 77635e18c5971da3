/**
 * The reselling dashboard's counters and reads: a wallet debit stays ONE DynamoDB call; the
 * account's day rollup (built from the stream, listed in the account's usage series like every
 * debit's) keeps the wallet's share, which the dashboard reads as consumption, and a manual-mode
 * debit's keeps none; the dashboard pages over reselling sub-accounts only, its daily series
 * puts consumption on the day it happened, and its range is bounded.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { dynamo } from '#db/client';
import { accountDays } from '#db/items/usage-rollup';
import { handler as usageHandler } from '../../functions/http/usage';
import { api, type SubAccountFixture } from '../support/api';
import { invoke } from '../support/invoke';
import { allPages, createSubAccountOnly, expectStatus, topUp } from '../support/ledger';
import { pipelineIdle } from '../support/pipeline';
import { buy, control, purchaseBecomes, type ReadyAgency, readyAgency, resellingClient } from '../support/reselling';
import { stack } from '../support/stack';

let seller: ReadyAgency;
let client: SubAccountFixture;

beforeAll(async () => {
  seller = await readyAgency();
  client = await resellingClient(seller.agency.token);
  const p = expectStatus(await buy(client.token, client.subAccountId, { credits: 100 }), 201).body.purchase;
  expect((await control(`/sandbox/checkout/sessions/${p.checkoutSessionId}/pay`)).status).toBe(200);
  await purchaseBecomes(p.id, 'paid');
}, 60_000);

const debit = (accountId: string, quantity = 1) =>
  invoke(usageHandler, 'POST /v1/accounts/{accountId}/usage', {
    params: { accountId },
    token: stack.platformApiKey,
    headers: { 'idempotency-key': randomUUID() },
    body: { type: 'ai_response', quantity },
  });

describe('the usage path', () => {
  it("debits a reselling wallet with ONE DynamoDB call, its day rollup keeping the wallet's share; a manual debit's keeps none", async () => {
    await debit(client.subAccountId);
    await debit(client.subAccountId); // warm: hints of this container
    let calls = 0;
    const name = 'count-calls';
    dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        calls++;
        expect(context.commandName).toBe('TransactWriteItemsCommand');
        return next(args);
      },
      { step: 'initialize', name },
    );
    try {
      expect((await debit(client.subAccountId, 3)).status).toBe(201);
    } finally {
      dynamo.middlewareStack.remove(name);
    }
    expect(calls).toBe(1);

    const manual = await createSubAccountOnly(seller.agency.token);
    expectStatus(await topUp(seller.agency.agencyId, 10), 201);
    expect((await debit(manual)).status).toBe(201);
    await pipelineIdle();
    const days = async (accountId: string) => {
      const all = await accountDays(accountId, '2000-01-01', '2999-12-31');
      const sum = (k: string) => all.reduce((n, d) => n + Number(d[k] ?? 0), 0);
      return { total: sum('total'), wallet: sum('wallet'), walletKept: all.some((d) => d.wallet !== undefined) };
    };
    expect(await days(client.subAccountId)).toEqual({ total: 5, wallet: 5, walletKept: true });
    expect(await days(manual)).toEqual({ total: 1, wallet: 0, walletKept: false });
  });
});

describe('the dashboard', () => {
  it('pages over the reselling sub-accounts only', async () => {
    const others = [await resellingClient(seller.agency.token), await resellingClient(seller.agency.token)];
    await createSubAccountOnly(seller.agency.token); // manual: not on the dashboard
    const pages = await allPages('/v1/reselling/dashboard', seller.agency.token, { limit: '2' });
    expect(pages.map((p) => p.length)).toEqual([2, 1]);
    const ids = pages.flat().map((i: { subAccountId: string }) => i.subAccountId);
    expect(ids.sort()).toEqual([client.subAccountId, ...others.map((o) => o.subAccountId)].sort());
  });

  it('puts consumption on the day it happened, and bounds the range', async () => {
    const day = '2026-03-14';
    const res = await api('POST', `/v1/accounts/${client.subAccountId}/usage`, {
      token: stack.platformApiKey,
      headers: { 'idempotency-key': randomUUID(), 'x-test-clock': `${day}T12:00:00Z` },
      body: { type: 'campaign_message', quantity: 4 },
    });
    expectStatus(res, 201);
    await pipelineIdle();
    const dash = expectStatus(
      await api('GET', `/v1/reselling/dashboard?from=2026-03-13&to=2026-03-15`, { token: seller.agency.token }),
      200,
    );
    const row = dash.body.items.find((i: { subAccountId: string }) => i.subAccountId === client.subAccountId);
    expect(row.series).toEqual([
      { date: '2026-03-13', purchased: 0, consumed: 0, refunded: 0 },
      { date: day, purchased: 0, consumed: 4, refunded: 0 },
      { date: '2026-03-15', purchased: 0, consumed: 0, refunded: 0 },
    ]);
    // Lifetime figures are not limited to the range.
    expect(row).toMatchObject({ purchasedCredits: 100, consumedCredits: 9, remaining: 91 });
    for (const [query, field] of [
      ['from=2026-03-15&to=2026-03-13', 'from'],
      ['from=2025-01-01&to=2026-03-13', 'from'],
      ['limit=51', 'limit'],
    ] as const) {
      const bad = await api('GET', `/v1/reselling/dashboard?${query}`, { token: seller.agency.token });
      expect([query, bad.status, bad.body.errors?.[0]?.field]).toEqual([query, 400, field]);
    }
  });
});
