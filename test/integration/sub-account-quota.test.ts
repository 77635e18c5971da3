/**
 * The per-agency sub-account quota (configuration: SUB_ACCOUNT_QUOTA), enforced by the creating
 * transaction itself: the handler runs in this process (a second "container") with the quota
 * set to 2 here; the gateway's container keeps the default. Concurrent creations at the edge
 * cannot overshoot: the count is raised under the condition `subAccountCount < quota`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../functions/http/sub-accounts';
import { type AgencyFixture, signUpAgency, uniqueEmail } from '../support/api';
import { invoke } from '../support/invoke';
import { itemsMentioning } from '../support/table';

let agency: AgencyFixture;
beforeAll(async () => {
  process.env.SUB_ACCOUNT_QUOTA = '2';
  agency = await signUpAgency('starter');
}, 60_000);
afterAll(() => {
  delete process.env.SUB_ACCOUNT_QUOTA;
});

const create = (clientLogin = false) =>
  invoke(handler, 'POST /v1/sub-accounts', {
    token: agency.token,
    body: { name: 'Client', email: uniqueEmail('quota'), clientLogin },
  });

describe('sub-account quota', () => {
  it('creates up to the quota, then answers 403 quota_exceeded and writes nothing', async () => {
    expect((await create()).status).toBe(201);
    const results = await Promise.all([create(true), create(), create()]);
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 201)) {
      // A creation that lost the race outright may be told to retry; none overshoots.
      expect(['quota_exceeded', 'try_again']).toContain(r.body.code);
    }
    const over = await create();
    expect([over.status, over.body.code]).toEqual([403, 'quota_exceeded']);
    const subs = (await itemsMentioning(agency.agencyId)).filter((i) => i.kind === 'account' && i.type === 'sub_account');
    expect(subs).toHaveLength(2);
  });
});
