import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handleRechargeRecords } from '#domain/recharge/detect';
import { api, signUpAgency, waitFor } from '../support/api';
import { debitPool, mailsWith } from '../support/auto-top-up';
import { plusMs } from '../support/clock';
import { chargeUsage, expectStatus, poolItem, topUp } from '../support/ledger';
import { pipelineIdle } from '../support/pipeline';
import { debit, grantWith, rechargeSetup } from '../support/recharge';
import { stack } from '../support/stack';
import { getRaw, testDb } from '../support/table';

const DAY = 24 * 3600 * 1000;
/** Noon in the middle of a month, in the past: "today" for the runway's reads. */
const TODAY = '2026-03-18T12:00:00.000Z';

describe('runway', () => {
  it('a week of use at a known rate gives the expected days; no use → null', async () => {
    const agency = await signUpAgency('agency');
    expectStatus(await topUp(agency.agencyId, 10_000, { clock: plusMs(TODAY, -8 * DAY) }), 201, 'top-up');
    const none = expectStatus(await api('GET', '/v1/credits/balance', { token: agency.token, clock: TODAY }), 200);
    expect(none.body.runway).toBeNull();
    // 7 whole days before today, 100 credits a day: 9,300 left.
    for (let d = 7; d >= 1; d--) {
      const res = await chargeUsage(agency.agencyId, { type: 'ai_response', quantity: 100 }, { clock: plusMs(TODAY, -d * DAY) });
      expectStatus(res, 201, `use ${d} days ago`);
    }
    await pipelineIdle();
    const read = expectStatus(await api('GET', '/v1/credits/balance', { token: agency.token, clock: TODAY }), 200);
    expect(read.body).toEqual({ balance: 9300, currency: 'credits', runway: { days: 93, basis: '7d', burnPerDay: 100 } });
    // Two weeks on, the week before is quiet: the 30 days judge (700 over 30 days).
    const later = expectStatus(
      await api('GET', '/v1/credits/balance', { token: agency.token, clock: plusMs(TODAY, 14 * DAY) }),
      200,
    );
    expect(later.body.runway).toEqual({ days: Math.floor(9300 / (700 / 30)), basis: '30d', burnPerDay: 23.33 });
  });
});

describe('low-balance alerts', () => {
  it('one email per crossing below the level, never one per debit', async () => {
    const agency = await signUpAgency('agency');
    expectStatus(await topUp(agency.agencyId, 1000), 201, 'top-up');
    expectStatus(await api('PUT', '/v1/credits/alerts', { token: agency.token, body: { poolBelow: 500 } }), 200, 'levels');
    // Ten debits of 60 at once: 1000 → 400, below 500 from the ninth on.
    await Promise.all(Array.from({ length: 10 }, (_, i) => debitPool(agency.agencyId, 60, i % 2 ? 'gateway' : 'test process')));
    await waitFor(async () => (await mailsWith(agency.email, /^Low balance/)).length >= 1, 20_000, 'the alert');
    for (let i = 0; i < 3; i++) await debitPool(agency.agencyId, 10);
    await pipelineIdle();
    expect(await mailsWith(agency.email, /^Low balance/)).toHaveLength(1);
    // Back above the level, then below again: a second crossing, a second email.
    expectStatus(await topUp(agency.agencyId, 500), 201, 'top-up');
    await pipelineIdle();
    await debitPool(agency.agencyId, 400);
    await waitFor(async () => (await mailsWith(agency.email, /^Low balance/)).length === 2, 20_000, 'the second alert');
    expect((await api('GET', '/v1/credits/alerts', { token: agency.token })).body).toEqual({ poolBelow: 500, walletBelow: null });
  });

  it('a credit and a debit back below the level in ONE stream batch: a new crossing, one email, none on a retry', async () => {
    const agency = await signUpAgency('agency');
    expectStatus(await topUp(agency.agencyId, 1000), 201, 'top-up');
    expectStatus(await api('PUT', '/v1/credits/alerts', { token: agency.token, body: { poolBelow: 500 } }), 200, 'levels');
    const alerts = () => mailsWith(agency.email, /^Low balance/);
    expect(await debitPool(agency.agencyId, 600)).toBe(201); // 400: alerted
    await waitFor(async () => (await alerts()).length === 1, 20_000, 'the first alert');
    await pipelineIdle();
    const mark = await getRaw(`ACCOUNT#${agency.agencyId}`, 'LOW_BALANCE_ALERTED#POOL');
    const images = [await poolItem(agency.agencyId)];
    // Back above the level (900), then below it again (450).
    expectStatus(await topUp(agency.agencyId, 500), 201, 'top-up');
    images.push(await poolItem(agency.agencyId));
    expect(await debitPool(agency.agencyId, 450)).toBe(201);
    images.push(await poolItem(agency.agencyId));
    expect(images.map((i) => [i?.balance, (i as { lanesOpen?: number } | undefined)?.lanesOpen ?? 0])).toEqual([
      [400, 0],
      [900, 0],
      [450, 0],
    ]);
    // However the stream batched them, that was a second crossing.
    await waitFor(async () => (await alerts()).length === 2, 20_000, 'the second alert');
    await pipelineIdle();

    // Both records in one batch, seen while the first crossing's mark still stood (put back as it
    // was): the stream's own grouping, made certain here.
    await testDb.send(new PutCommand({ TableName: stack.tableName, Item: mark }));
    const record = (before: unknown, after: unknown, n: number): DynamoDBRecord => ({
      eventName: 'MODIFY',
      dynamodb: {
        OldImage: marshall(before, { removeUndefinedValues: true }) as never,
        NewImage: marshall(after, { removeUndefinedValues: true }) as never,
        SequenceNumber: String(n),
      },
    });
    const batch = [record(images[0], images[1], 1), record(images[1], images[2], 2)];
    expect(await handleRechargeRecords(batch)).toEqual({ batchItemFailures: [] });
    // The same batch again (a retry, another container): the crossing is told once.
    expect(await handleRechargeRecords(batch)).toEqual({ batchItemFailures: [] });
    await waitFor(async () => (await alerts()).length >= 3, 20_000, 'the alert of the one-batch crossing');
    await pipelineIdle();
    expect(await alerts()).toHaveLength(3);
  });

  it("walletBelow: one email to the agency per crossing of a reselling client's wallet, never one per debit", async () => {
    const { agency, sub } = await rechargeSetup({ pool: 10_000, wallet: 1000 });
    const name = expectStatus(await api('GET', `/v1/sub-accounts/${sub}`, { token: agency.token }), 200).body.subAccount.name;
    expectStatus(await api('PUT', '/v1/credits/alerts', { token: agency.token, body: { walletBelow: 500 } }), 200, 'levels');
    const alerts = () => mailsWith(agency.email, /^Low balance/);
    // Ten debits of 60 at once: 1000 → 400, below 500 from the ninth on.
    const used = await Promise.all(Array.from({ length: 10 }, () => debit(sub, 60)));
    expect(used.map((r) => r.status)).toEqual(Array(10).fill(201));
    const [mail] = await waitFor(async () => ((await alerts()).length ? alerts() : undefined), 20_000, 'the wallet alert');
    expect(mail?.subject).toBe(`Low balance: ${name} below 500 credits`);
    expect(mail?.body.text).toMatch(
      new RegExp(`The wallet of ${name} \\(${sub}\\) is down to (460|400) credits, below your alert level of 500 credits`),
    );
    for (let i = 0; i < 3; i++) expectStatus(await debit(sub, 10), 201, 'a debit below the level');
    await pipelineIdle();
    expect(await alerts()).toHaveLength(1);
    // Granted back above the level, then below again: a second crossing, a second email.
    expectStatus(await grantWith(agency.token, sub, 500), 201, 'grant'); // 370 → 870
    await pipelineIdle();
    expectStatus(await debit(sub, 400), 201, 'below again'); // 470
    await waitFor(async () => (await alerts()).length === 2, 20_000, 'the second wallet alert');
    await pipelineIdle();
    expect(await alerts()).toHaveLength(2);
  });
});
