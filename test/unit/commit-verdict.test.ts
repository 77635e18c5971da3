/**
 * What a ledger commit makes of a failed write (`verdictOf`), from the transaction's result and
 * the use case's `onFailed`: the key's first outcome beats everything, then an extra's declared
 * refusal, then what the use case reads itself (`return`, before `retry`), and only then the
 * balances as they are now (too few credits, the ceiling, or a stale version).
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '#core/errors';
import { MAX_BALANCE } from '#db/items/balance';
import type { Failed } from '#db/transact';
import { verdictOf } from '#domain/ledger/commit';

type X = 'purchase' | 'state';
const stale = (failed: Failed<string>) => ({ kind: 'stale' as const, failed, reasons: [] });
const debit = { delta: -10 };
const credit = { delta: 10 };
const read = { purchase: 'return', state: 'retry' } as const;

describe('verdictOf', () => {
  it('replays the key’s first outcome, whatever else failed', () => {
    const entry = { kind: 'ledger_entry' };
    const refused = {
      kind: 'refused' as const,
      error: new AppError('account_closed', 'closed'),
      item: 'state' as const,
      failed: { entry: { old: entry }, state: {} },
    };
    expect(verdictOf<X>(refused, debit, read)).toEqual({ kind: 'replay', old: entry });
    expect(verdictOf<X>(stale({ entry: { old: entry }, purchase: {}, balance: { old: { balance: 0 } } }), debit, read)).toEqual({
      kind: 'replay',
      old: entry,
    });
  });

  it('refuses as an extra declares, before the balance is judged', () => {
    const error = new AppError('wrong_credit_mode', 'manual');
    const refused = {
      kind: 'refused' as const,
      error,
      item: 'state' as const,
      failed: { state: {}, balance: { old: { balance: 0 } } },
    };
    expect(verdictOf<X>(refused, debit, {})).toEqual({ kind: 'refuse', error });
  });

  it('hands back what the use case reads itself, before a retry it asked for', () => {
    expect(verdictOf<X>(stale({ purchase: {}, state: {} }), debit, read)).toEqual({ kind: 'return' });
    expect(verdictOf<X>(stale({ state: {}, balance: { old: { balance: 0 } } }), debit, read)).toEqual({
      kind: 'retry',
      why: 'stale_hint',
    });
    // A plan sized to the balance: its balance failing is a stale reading, never too few credits.
    expect(verdictOf<X>(stale({ balance: { old: { balance: 0 } } }), debit, { balance: 'retry' })).toEqual({
      kind: 'retry',
      why: 'stale_hint',
    });
  });

  it('judges the balances as they are now', () => {
    const short = verdictOf<X>(stale({ balance: { old: { balance: 9 } } }), debit, read);
    expect(short).toMatchObject({ kind: 'refuse', error: { code: 'insufficient_credits' } });
    expect(verdictOf<X>(stale({ balance: { old: { balance: 10 } } }), debit, read)).toEqual({
      kind: 'retry',
      why: 'stale_version',
    });
    const over = verdictOf<X>(stale({ balance: { old: { balance: MAX_BALANCE - 9 } } }), credit, read);
    expect(over).toMatchObject({ kind: 'refuse', error: { code: 'balance_limit_exceeded' } });
    // A transfer's other side: the pool a grant takes from.
    const transfer = { delta: 10, counter: { balanceKey: { pk: 'p', sk: 's' }, delta: -10, entry: {} as never } };
    const poolShort = verdictOf<X>(stale({ counterBalance: { old: { balance: 3 } } }), transfer, read);
    expect(poolShort).toMatchObject({ kind: 'refuse', error: { code: 'insufficient_credits' } });
  });

  it('takes a failure nothing explains for a bug', () => {
    expect(() => verdictOf<X>(stale({ purchase: {} }), debit, {})).toThrow(/Unexpected failed conditions: purchase/);
    expect(() => verdictOf<X>(stale({ counterEntry: {} }), debit, read)).toThrow(/counter entry/);
  });
});
