/**
 * The reselling dashboard's rows come from the agency's sparse list of reselling sub-accounts
 * (issue 24): a switch to reselling lists the sub-account, a switch back unlists it, and a page
 * of rows reads those rows only, never the agency's manual sub-accounts (it used to filter
 * every sub-account, five reads a page, and could answer short pages).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { dynamo } from '#db/client';
import { resellingDashboard } from '#domain/reselling/dashboard';
import { type AgencyFixture, api, createSubAccount, signUpAgency } from '../support/api';

let agency: AgencyFixture;
let subs: string[];

beforeAll(async () => {
  agency = await signUpAgency('agency');
  subs = [];
  for (let i = 0; i < 8; i++) subs.push((await createSubAccount(agency.token)).subAccountId);
  const mode = async (id: string, creditMode: string) => {
    const res = await api('PATCH', `/v1/sub-accounts/${id}`, { token: agency.token, body: { creditMode } });
    expect(res.status, res.text).toBe(200);
  };
  for (const i of [1, 3, 6]) await mode(subs[i]!, 'reselling');
  await mode(subs[3]!, 'manual');
}, 120_000);

describe('the reselling dashboard', () => {
  it('lists exactly the sub-accounts in reselling mode, oldest first, paged', async () => {
    const all = await api('GET', '/v1/reselling/dashboard', { token: agency.token });
    expect(all.status, all.text).toBe(200);
    expect([all.body.items.map((r: { subAccountId: string }) => r.subAccountId), all.body.nextCursor]).toEqual([
      [subs[1], subs[6]],
      null,
    ]);
    const first = await api('GET', '/v1/reselling/dashboard?limit=1', { token: agency.token });
    const next = await api('GET', `/v1/reselling/dashboard?limit=1&cursor=${first.body.nextCursor}`, { token: agency.token });
    expect([...first.body.items, ...next.body.items].map((r: { subAccountId: string }) => r.subAccountId)).toEqual([
      subs[1],
      subs[6],
    ]);
  });

  it('reads its rows and no manual sub-account', async () => {
    let accountsRead = 0;
    const name = 'observe-account-reads';
    dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        const out: any = await next(args);
        const pk = (args.input as any).ExpressionAttributeValues?.[':pk'];
        // The list of sub-accounts: what DynamoDB evaluated there, kept by a filter or not.
        if (context.commandName === 'QueryCommand' && String(pk?.S ?? pk).startsWith('AGENCY#'))
          accountsRead += out.output.ScannedCount ?? 0;
        return out;
      },
      { step: 'initialize', name },
    );
    try {
      const page = await resellingDashboard(agency.agencyId, { limit: 50 });
      expect(page.items.length).toBe(2);
    } finally {
      dynamo.middlewareStack.remove(name);
    }
    expect(accountsRead).toBe(2);
  });
});
