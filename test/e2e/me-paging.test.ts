/**
 * The account switcher (`GET /v1/me`) is paged like every list (issue 8): an agency with many
 * sub-accounts never loads them all in one answer. The agency comes first, on the first page;
 * closed sub-accounts are left out; the pages hold every active sub-account exactly once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type AgencyFixture, api, createSubAccount, type SubAccountFixture, signUpAgency } from '../support/api';

let agency: AgencyFixture;
let subs: SubAccountFixture[];

beforeAll(async () => {
  agency = await signUpAgency('starter');
  subs = [];
  for (let i = 0; i < 5; i++) subs.push(await createSubAccount(agency.token, `Switch ${i}`));
  expect((await api('DELETE', `/v1/sub-accounts/${subs[2]!.subAccountId}`, { token: agency.token })).status).toBe(204);
}, 120_000);

describe('GET /v1/me', () => {
  it('pages the switcher: the agency first, then every active sub-account once, limit at a time', async () => {
    const pages: Array<{ accounts: Array<{ id: string; type: string }>; nextCursor: string | null }> = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: (typeof pages)[number] } = await api(
        'GET',
        `/v1/me?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { token: agency.token },
      );
      expect(res.status).toBe(200);
      pages.push(res.body);
      cursor = res.body.nextCursor;
    } while (cursor && pages.length < 10);

    const [first, ...rest] = pages;
    expect(first!.accounts[0]).toMatchObject({ id: agency.agencyId, type: 'agency' });
    expect(first!.accounts.length).toBeLessThanOrEqual(3);
    for (const page of rest) {
      expect(page.accounts.length).toBeLessThanOrEqual(2);
      expect(page.accounts.map((a) => a.type)).not.toContain('agency');
    }
    const active = subs.filter((_, i) => i !== 2).map((s) => s.subAccountId);
    expect(pages.flatMap((p) => p.accounts.filter((a) => a.type === 'sub_account').map((a) => a.id))).toEqual(active);
    expect(pages.length).toBeGreaterThan(1);
  });

  it('answers a small agency in one page', async () => {
    const res = await api('GET', '/v1/me', { token: agency.token });
    expect(res.body.accounts).toHaveLength(5);
    expect(res.body.nextCursor).toBeNull();
  });

  it('gives a client its own account only, and refuses a cursor (none was handed out)', async () => {
    const client = subs[0]!;
    const res = await api('GET', '/v1/me', { token: client.token });
    expect([res.body.accounts.map((a: { id: string }) => a.id), res.body.nextCursor]).toEqual([[client.subAccountId], null]);
    const mine = await api('GET', '/v1/me?limit=2', { token: agency.token });
    const refused = await api('GET', `/v1/me?cursor=${mine.body.nextCursor}`, { token: client.token });
    expect([refused.status, refused.body.errors?.[0]?.field]).toEqual([400, 'cursor']);
  });
});
