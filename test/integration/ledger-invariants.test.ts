/**
 * The load suite's invariant checker (scripts/load/invariants.ts), tested on a small scenario
 * seeded through the API: it finds nothing wrong with what the API wrote, and it names the
 * broken rule when the table (or a copy of its items) is corrupted, one way at a time.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkMoves } from '../../scripts/load/answers';
import { agencyItems, checkLedger } from '../../scripts/load/invariants';
import { type AgencyFixture, signUpAgency } from '../support/api';
import { chargeUsage, createSubAccountOnly, expectStatus, grant, patchSub, topUp } from '../support/ledger';
import { pipelineIdle } from '../support/pipeline';
import { stack } from '../support/stack';
import { testDb } from '../support/table';

let agency: AgencyFixture;
let manual: string;
let reselling: string;
/** The agency's items once the stream is caught up (the usage rollups are built from it). */
const items = async () => {
  await pipelineIdle();
  return agencyItems(testDb, stack.tableName, [agency.agencyId]);
};

beforeAll(async () => {
  agency = await signUpAgency('agency');
  manual = await createSubAccountOnly(agency.token);
  reselling = await createSubAccountOnly(agency.token);
  expectStatus(await patchSub(agency.token, manual, { monthlyCreditLimit: 40 }), 200, 'limit');
  expectStatus(await patchSub(agency.token, reselling, { creditMode: 'reselling' }), 200, 'reselling');
  expectStatus(await topUp(agency.agencyId, 1000), 201, 'top-up');
  expectStatus(await grant(agency.token, reselling, 100), 201, 'grant');
  expectStatus(await chargeUsage(manual, { type: 'campaign_message', quantity: 30, campaignId: 'cmp_x' }), 201, 'manual');
  expectStatus(await chargeUsage(manual, { type: 'ai_response', quantity: 20 }), 402, 'over the limit');
  expectStatus(await chargeUsage(manual, { type: 'ai_response', quantity: 5 }), 201, 'manual');
  expectStatus(await chargeUsage(reselling, { type: 'ai_response', quantity: 70 }), 201, 'wallet');
  expectStatus(await chargeUsage(reselling, { type: 'ai_response', quantity: 31 }), 402, 'wallet short');
  expectStatus(await chargeUsage(agency.agencyId, { type: 'ai_response', quantity: 7 }), 201, 'agency itself');
});

/** A deep copy of the items with one of them changed. */
const corrupt = (
  all: Record<string, any>[],
  pick: (i: Record<string, any>) => boolean,
  change: (i: Record<string, any>) => void,
) => {
  const copy = structuredClone(all);
  const target = copy.find(pick);
  if (!target) throw new Error('nothing to corrupt');
  change(target);
  return copy;
};

describe('the ledger invariant checker', () => {
  it('finds every invariant holding on what the API wrote', async () => {
    const report = checkLedger(await items());
    expect(report.violations).toEqual([]);
    // It looked at something: pool and wallet, 7 entries (top-up, grant ×2, 4 usage), day rollups, the limited sub's meter.
    expect(report).toMatchObject({ balances: 2, entries: 7, meters: 1 });
    expect(report.usageDays).toBeGreaterThanOrEqual(3);
  });

  it('reports a corrupted balance in the table, and only that', async () => {
    const pool = { pk: `ACCOUNT#${agency.agencyId}`, sk: 'POOL' };
    const bump = (n: number) =>
      testDb.send(
        new UpdateCommand({
          TableName: stack.tableName,
          Key: pool,
          UpdateExpression: 'ADD balance :n',
          ExpressionAttributeValues: { ':n': n },
        }),
      );
    await bump(1);
    try {
      const { violations } = checkLedger(await items());
      expect(violations).toEqual([
        { rule: 'balance = Σ entries', where: `${pool.pk}/${pool.sk}`, detail: 'balance 859, entries sum to 858' },
      ]);
    } finally {
      await bump(-1);
    }
    expect(checkLedger(await items()).violations).toEqual([]);
  });

  it('names each other broken rule', async () => {
    const all = await items();
    const rules = (copy: Record<string, any>[]) => checkLedger(copy).violations.map((v) => v.rule);
    const wallet = (i: Record<string, any>) => i.kind === 'balance' && i.sk === 'WALLET';
    const usageEntry = (i: Record<string, any>) => i.kind === 'ledger_entry' && i.accountId === manual && i.credits === -30;

    // A wallet overdrawn with entries that add up (a grant of 69, a debit of 70): only "nothing negative" catches it.
    const negative = structuredClone(all);
    const walletEntry = (type: string) =>
      negative.find((i) => i.kind === 'ledger_entry' && i.balanceKind === 'wallet' && i.type === type)!;
    Object.assign(walletEntry('grant'), { credits: 69, balanceAfter: 69 });
    Object.assign(walletEntry('ai_response'), { balanceAfter: -1 });
    Object.assign(negative.find(wallet)!, { balance: -1, purchased: 69 });
    expect(rules(negative)).toEqual(['nothing negative', 'nothing negative']);

    // The same debit written twice under another key of the table.
    const twice = structuredClone(all);
    const dup = { ...twice.find(usageEntry)!, sk: 'IDEM#usage#copy' };
    twice.push(dup);
    expect(rules(twice)).toContain('one entry per idempotency key');

    expect(rules(corrupt(all, wallet, (i) => (i.consumed += 1)))).toEqual(['lifetime totals = Σ entries']);
    expect(
      rules(
        corrupt(
          all,
          (i) => i.kind === 'account_usage_day' && i.accountId === manual,
          (i) => (i.campaign_message += 1),
        ),
      ),
    ).toEqual(['usage rollups = usage entries']);
    expect(
      rules(
        corrupt(
          all,
          (i) => i.kind === 'account_meter' && i.accountId === manual,
          (i) => (i.meterRemaining -= 1),
        ),
      ),
    ).toEqual(['meter = usage entries']);
    // An entry lost: its balance, its day rollup and its meter no longer add up.
    const lost = all.filter((i) => !usageEntry(i));
    expect(new Set(rules(lost))).toEqual(
      new Set(['balance = Σ entries', 'lifetime totals = Σ entries', 'usage rollups = usage entries', 'meter = usage entries']),
    );
  });

  it('matches each money-moving answer to the table: a 201 wrote its entries, a refusal none, an unanswered one all or none', async () => {
    const all = await items();
    const entry = (accountId: string, type: string) =>
      all.find((i) => i.kind === 'ledger_entry' && i.accountId === accountId && i.type === type)!;
    const debit = entry(manual, 'campaign_message');
    const granted = entry(reselling, 'grant');
    const usage = { op: 'usage' as const, key: debit.idempotencyKey, accountId: manual, credits: 30 };
    const grantMove = { op: 'grant' as const, key: granted.idempotencyKey, accountId: reselling, credits: 100 };
    const unknown = { op: 'usage' as const, key: 'never-sent', accountId: manual, credits: 1 };
    const problems = (moves: Parameters<typeof checkMoves>[1]) => checkMoves(all, moves).problems.length;

    expect(
      problems([
        { ...usage, status: 201 },
        { ...grantMove, status: 201 },
        { ...unknown, status: 402 },
      ]),
    ).toBe(0);
    expect(problems([{ ...usage }, { ...unknown }])).toBe(0);
    expect(problems([{ ...usage, status: 402 }]), 'a refusal that wrote an entry').toBe(1);
    expect(problems([{ ...unknown, status: 201 }]), 'a 201 without its entry').toBe(1);
    expect(problems([{ ...usage, credits: 31, status: 201 }]), 'another amount than asked').toBe(1);
    const halfGrant = all.filter((i) => !(i.kind === 'ledger_entry' && i.type === 'grant' && i.balanceKind === 'pool'));
    expect(checkMoves(halfGrant, [{ ...grantMove }]).problems, 'a grant with one side only').toHaveLength(1);
  });
});
