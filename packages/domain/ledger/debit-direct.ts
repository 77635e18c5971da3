import { moveBalance } from '#db/items/balance';
import type { LedgerEntryItem } from '#db/items/ledger-entry';
import { attempt, throwing, unhandled } from '#db/transact';
import { type AccountHint, forgetAccountsOf, noteMeterMonth } from './account-hints';
import { type BalanceState, rememberBalance } from './balance-state';
import { insufficientCredits } from './commit';
import {
  conflictedOn,
  type DebitRequest,
  entryWrite,
  judgeCommon,
  limitRefusal,
  meterConflicted,
  meterWrites,
  type Outcome,
  type Scope,
} from './debit-attempt';
import { HOT_MS, noteContention, type ScopeState } from './lanes';

/**
 * The balance item itself, version-pinned so the entry's balanceAfter is exact, only while no
 * lane is open and under the fence this container's account facts were read under.
 */
export async function direct(
  d: DebitRequest,
  hint: AccountHint,
  scope: Scope,
  state: ScopeState,
  head: BalanceState,
  entry: LedgerEntryItem,
): Promise<Outcome> {
  const month = d.month();
  const at = entry.createdAt;
  const exact = { ...entry, balanceAfter: head.balance - d.credits };
  const result = await attempt<'balance' | 'entry' | 'standing' | 'meter'>(
    [
      {
        name: 'balance',
        write: moveBalance({
          key: scope.head,
          agencyId: hint.agencyId,
          from: head,
          delta: -d.credits,
          at,
          direct: { fence: head.fence },
        }),
      },
      entryWrite(exact),
      ...(scope.limited ? meterWrites(d, hint, month, d.credits) : []),
    ],
    { retryConflicts: false },
  );
  switch (result.kind) {
    case 'committed':
      break;
    case 'conflict':
      state.hotUntil = Date.now() + HOT_MS;
      if (scope.limited) meterConflicted(result.reasons, { state });
      return conflictedOn(scope);
    case 'stale': {
      const { failed } = result;
      const common = judgeCommon(failed, exact);
      if (common) return common;
      // The limit is judged first (API.md): a charge past it is credit_limit_reached even when the pool is short too.
      const meter = failed.meter;
      // Allowance set aside in lanes (this sub-account's, other containers') is not used: bring it
      // back before refusing (the collect refuses if nothing was out).
      const limited = meter && limitRefusal(meter.old, month, d.credits);
      if (limited?.kind === 'refused')
        return { kind: 'collect', head: scope.head, scopes: (s) => s === scope.code, refuseIfNone: limited.error };
      const failedHead = failed.balance;
      if (failedHead) {
        const seen = rememberBalance(scope.head, failedHead.old);
        if (seen.fence !== head.fence) forgetAccountsOf(hint.agencyId);
        // Collected (no lanes for a while) yet lanes still open: a collect was cut short (its
        // container lost an answer or crashed between lanes). Neither a claim nor a direct debit
        // can land until they are back, so this debit finishes the collect.
        else if (seen.lanesOpen > 0 && seen.noLanesUntil > Date.now()) return { kind: 'collect', head: scope.head };
        else if (seen.lanesOpen > 0) state.hotUntil = Date.now() + HOT_MS;
        else if (seen.balance < d.credits) return { kind: 'refused', error: insufficientCredits() };
        else if (seen.version !== head.version) {
          // Another container moved the balance since this one last saw it: retry on the version it
          // returned; several such in a short while mean the balance is busy (lanes, lanes.ts).
          noteContention(state);
          state.readFirst = true;
        }
        return { kind: 'again' };
      }
      if (meter) return { kind: 'again' };
      return throwing(result);
    }
    case 'refused':
      return throwing(result);
    default:
      return unhandled(result);
  }
  rememberBalance(scope.head, { ...head, balance: head.balance - d.credits, version: head.version + 1 });
  if (scope.limited) noteMeterMonth(d.accountId, month);
  return { kind: 'done', entry: exact, replayed: false };
}
