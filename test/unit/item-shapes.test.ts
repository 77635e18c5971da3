/**
 * Items are parsed as they are read: an account is an agency or a sub-account, told apart by
 * `type`, and an item that is not what its kind says throws `MalformedItem` naming the kind,
 * the key and the field (a bug: a 500, never a 4xx), instead of flowing on as a lie.
 */
import { describe, expect, it } from 'vitest';
import { anyOf, MalformedItem } from '#db/item-shape';
import { accountShape, agencyShape, subAccountShape } from '#db/items/account';
import { alertLevelsShape } from '#db/items/auto-top-up';
import { balanceShape } from '#db/items/balance';
import { ledgerEntryShape, ledgerRefusalShape } from '#db/items/ledger-entry';

const key = { pk: 'ACCOUNT#sub_1', sk: 'ACCOUNT' };
const subAccount = {
  ...key,
  kind: 'account',
  id: 'sub_1',
  type: 'sub_account',
  agencyId: 'agc_1',
  name: 'Cedar',
  features: ['campaigns'],
  status: 'active',
  creditMode: 'manual',
  monthlyCreditLimit: 500,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};
const agency = { ...subAccount, pk: 'ACCOUNT#agc_1', id: 'agc_1', type: 'agency', plan: 'pro', emailVerified: true };

describe('account items, parsed as read', () => {
  it('parses either kind, and the type narrows to the fields that kind has', () => {
    const sub = accountShape.parse(subAccount);
    expect(sub.type === 'sub_account' ? sub.monthlyCreditLimit : 'not a sub-account').toBe(500);
    const own = accountShape.parse(agency);
    expect(own.type === 'agency' ? own.plan : 'not an agency').toBe('pro');
    expect(subAccountShape.parse(subAccount).id).toBe('sub_1');
    expect(agencyShape.parse(agency).id).toBe('agc_1');
  });

  it.each([
    ['a missing status', { status: undefined }, 'status: expected one of active, closed, suspended, got nothing'],
    ['an unknown type', { type: 'reseller' }, 'type: expected one of agency, sub_account, got "reseller"'],
    ['a credit mode there is not', { creditMode: 'credit' }, 'creditMode: expected one of manual, reselling, got "credit"'],
    ['a limit that is not a number', { monthlyCreditLimit: '500' }, 'monthlyCreditLimit: expected a number, got "500"'],
    ['features that are not a list', { features: 'campaigns' }, 'features: expected an array, got "campaigns"'],
    ["another kind's item", { kind: 'user' }, 'kind: expected account, got "user"'],
  ])('refuses %s, naming the kind, the key and the field', (_, change, problem) => {
    const item = { ...subAccount, ...change };
    expect(() => accountShape.parse(item)).toThrow(new MalformedItem('account', 'ACCOUNT#sub_1|ACCOUNT', problem));
    expect(accountShape.is(item)).toBe(false);
  });

  it('refuses an agency where a sub-account must be, and a sub-account where the agency must be', () => {
    expect(() => subAccountShape.parse(agency)).toThrow(/Malformed account item at ACCOUNT#agc_1\|ACCOUNT: type/);
    expect(() => agencyShape.parse(subAccount)).toThrow(/Malformed account item at ACCOUNT#sub_1\|ACCOUNT: type/);
    expect(subAccountShape.is(subAccount)).toBe(true);
    expect(subAccountShape.is(agency)).toBe(false);
  });
});

describe('records of several kinds', () => {
  const record = anyOf(ledgerEntryShape, ledgerRefusalShape);

  it('parses each kind by its own shape, and refuses a kind it does not hold', () => {
    const refusal = {
      pk: 'LEDGER#agc_1#07',
      sk: 'IDEM#usage#x',
      kind: 'ledger_refusal',
      requestHash: 'h',
      code: 'insufficient_credits',
    };
    expect(record.parse(refusal)).toEqual(refusal);
    expect(() => record.parse({ ...refusal, code: 7 })).toThrow(
      /Malformed ledger_refusal item at LEDGER#agc_1#07\|IDEM#usage#x: code/,
    );
    expect(() => record.parse({ ...refusal, kind: 'account' })).toThrow(MalformedItem);
  });
});

describe('items as some writes leave them', () => {
  it('takes a balance that only a fence move created (no kind, no balance yet), and nothing else kindless', () => {
    const fenced = { pk: 'ACCOUNT#agc_1', sk: 'POOL', fence: 1, updatedAt: '2026-01-01T00:00:00.000Z' };
    expect(balanceShape.parse(fenced)).toEqual(fenced);
    expect(() => balanceShape.parse({ ...fenced, fence: 'one' })).toThrow(/balance item at ACCOUNT#agc_1\|POOL: fence/);
    expect(() => accountShape.parse({ ...subAccount, kind: undefined })).toThrow(/kind: expected account, got undefined/);
  });

  it('takes null for an optional field (an alert level turned off)', () => {
    const levels = {
      pk: 'ACCOUNT#agc_1',
      sk: 'LOW_BALANCE_ALERTS',
      kind: 'low_balance_alerts',
      agencyId: 'agc_1',
      poolBelow: 100,
      walletBelow: null,
    };
    expect(alertLevelsShape.parse(levels).walletBelow).toBeNull();
  });
});
