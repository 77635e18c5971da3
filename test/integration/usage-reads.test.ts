/**
 * Bounded work in the usage dashboards (issue 8), now read from the usage rollups (issue 19):
 *  - an account's usage is a query of that account's day rollups alone (it used to read the whole
 *    agency's counters for the range and filter them: work grew with the agency);
 *  - the agency dashboard answers any range in one response from the agency's own rollups (its
 *    day items and its per-account totals), its sub-accounts ranked, a page of them at a time
 *    (issue 24; it used to read a counter per account per day, 9 days a request at 1,000).
 * What DynamoDB returned is observed on the handlers' own client (an observer, not a fake).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { dynamo } from '#db/client';
import { handler as creditsHandler } from '../../functions/http/credits';
import { type AgencyFixture, api, createSubAccount, signUpAgency } from '../support/api';
import { invoke } from '../support/invoke';
import { pipelineIdle } from '../support/pipeline';
import { stack } from '../support/stack';

const DAY = 86_400_000;
const day = (offset: number) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10);
/** Four days, well inside the dashboards' range, in order. */
const days = [-12, -11, -10, -9].map(day);

let agency: AgencyFixture;
let accounts: string[];

beforeAll(async () => {
  agency = await signUpAgency('agency');
  accounts = [
    agency.agencyId,
    (await createSubAccount(agency.token)).subAccountId,
    (await createSubAccount(agency.token)).subAccountId,
  ];
  const topUp = await api('POST', `/v1/admin/agencies/${agency.agencyId}/credits`, {
    token: stack.platformApiKey,
    body: { credits: 10_000, reference: 'usage reads' },
    headers: { 'idempotency-key': `usage-reads-${agency.agencyId}` },
  });
  expect(topUp.status).toBe(201);
  // Every account uses credits on every day: 3 counters a day, 12 in all; account i uses i+1 a day.
  for (const [d, date] of days.entries()) {
    for (const [i, accountId] of accounts.entries()) {
      const res = await api('POST', `/v1/accounts/${accountId}/usage`, {
        token: stack.platformApiKey,
        body: { type: i === 2 ? 'ai_response' : 'campaign_message', quantity: i + 1 },
        headers: { 'idempotency-key': `u-${d}-${i}`, 'x-test-clock': `${date}T12:00:00.000Z` },
      });
      expect(res.status, res.text).toBe(201);
    }
  }
  await pipelineIdle(); // the rollups are built from the stream
}, 120_000);

/** Records every Query the handlers make and the items each returned. */
async function observingQueries<T>(fn: () => Promise<T>) {
  const seen: Array<{ index?: string; partition: unknown; items: any[]; scanned: number }> = [];
  const name = 'observe-queries';
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const out: any = await next(args);
      if (context.commandName === 'QueryCommand') {
        const input = args.input as any;
        seen.push({
          index: input.IndexName,
          partition: input.ExpressionAttributeValues?.[':pk'],
          items: out.output.Items ?? [],
          scanned: out.output.ScannedCount ?? 0,
        });
      }
      return out;
    },
    { step: 'initialize', name },
  );
  try {
    return { result: await fn(), seen };
  } finally {
    dynamo.middlewareStack.remove(name);
  }
}
const plain = (v: any) => (v && typeof v === 'object' && 'S' in v ? v.S : v);

describe("an account's usage", () => {
  it("reads that account's counters and nothing else", async () => {
    const sub = accounts[1]!;
    const { result, seen } = await observingQueries(() =>
      invoke(creditsHandler, 'GET /v1/accounts/{accountId}/usage', {
        token: agency.token,
        params: { accountId: sub },
        headers: {},
      }),
    );
    expect(result.status).toBe(200);
    expect(result.body.total).toBe(4 * 2);
    const read = seen.flatMap((q) => q.items);
    expect(read.map((item) => plain(item.accountId))).toEqual(days.map(() => sub));
    // Nothing read and thrown away: the work is the account's own days, whatever the agency's size.
    expect(seen.reduce((n, q) => n + q.scanned, 0)).toBe(days.length);
  });

  it('answers the same totals and series as the agency dashboard says for it', async () => {
    const q = `from=${days[0]}&to=${days[3]}`;
    for (const [i, accountId] of accounts.entries()) {
      const own = await api('GET', `/v1/accounts/${accountId}/usage?${q}`, { token: agency.token });
      expect(own.status).toBe(200);
      expect(own.body.total).toBe(4 * (i + 1));
      expect(own.body.series.map((s: { credits: number }) => s.credits)).toEqual([i + 1, i + 1, i + 1, i + 1]);
    }
  });
});

describe('the agency dashboard', () => {
  it('answers the whole range in one response: totals, own use, every sub-account ranked', async () => {
    const { result, seen } = await observingQueries(() =>
      api('GET', `/v1/credits/usage?from=${days[0]}&to=${days[3]}`, { token: agency.token }),
    );
    const res = result;
    expect(res.status).toBe(200);
    expect([res.body.total, res.body.agencyOwn, res.body.nextCursor, res.body.to]).toEqual([24, 4, null, days[3]]);
    expect(res.body.bySubAccount.map((s: { credits: number }) => s.credits)).toEqual([12, 8]);
    // Only the agency's own rollups: no account's partition, no index shared by its accounts.
    expect(seen.every((q) => !q.index && String(plain(q.partition)).startsWith(`ROLLUP#AGENCY#${agency.agencyId}`))).toBe(true);
  });

  it('ranks sub-accounts limit at a time; the cursor gives the next ranks of this range only', async () => {
    const first = await api('GET', `/v1/credits/usage?from=${days[0]}&to=${days[3]}&limit=1`, { token: agency.token });
    expect([first.status, first.body.bySubAccount.length, first.body.subAccountsWithUsage]).toEqual([200, 1, 2]);
    const second = await api('GET', `/v1/credits/usage?from=${days[0]}&to=${days[3]}&limit=1&cursor=${first.body.nextCursor}`, {
      token: agency.token,
    });
    expect(second.status).toBe(200);
    expect(
      [...first.body.bySubAccount, ...second.body.bySubAccount].map((s: { subAccountId: string }) => s.subAccountId),
    ).toEqual([accounts[2], accounts[1]]);
    expect([second.body.nextCursor, second.body.total]).toEqual([null, 24]);
    const elsewhere = await api('GET', `/v1/credits/usage?from=${days[0]}&to=${days[0]}&cursor=${first.body.nextCursor}`, {
      token: agency.token,
    });
    expect([elsewhere.status, elsewhere.body.errors?.[0]?.field]).toEqual([400, 'cursor']);
  });
});
