import { timeLeftMs } from '#core/deadline';
import { AppError } from '#core/errors';
import { logger } from '#core/logger';
import { count } from '#core/metrics';
import type { LedgerEntryItem } from '#db/items/ledger-entry';
import { getAccountWithMeter } from '#db/items/meter';
import { itemId } from '#db/read';
import { accountClosed } from '../accounts/errors';
import { type AccountHint, accountHint, readUnder, refreshAccount, refreshAccountUnder, rememberAccount } from './account-hints';
import { type BalanceState, balanceHint, balanceKnown, forgetBalance, oneAtATime } from './balance-state';
import { refuse } from './commit';
import {
  type DebitRequest,
  entryOf,
  idempotencyScopeOf,
  limitRefusal,
  type MeterRider,
  meterWrites,
  type Outcome,
  poolScopeOf,
  type Scope,
  scopeOf,
} from './debit-attempt';
import { claim } from './debit-claim';
import { direct } from './debit-direct';
import { laneDebit, releaseOwn } from './debit-lanes';
import { closeLanes } from './lane-close';
import { COLLECTED_MS, noteUse, type ScopeState, scopeState } from './lanes';

export type { DebitRequest } from './debit-attempt';

const MAX_ATTEMPTS = 60;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/**
 * After the n-th conflict on a balance item: a wait drawn from [0, 10·2ⁿ ms], at most 160 ms
 * ("full jitter"). Containers turning to lanes at once all claim on the balance item; retried
 * at once they meet again, and every meeting is a billed, cancelled transaction. Only the
 * switch to lanes pays this; a lane's own debits never conflict.
 */
function backOff(n: number): Promise<void> {
  return sleep(Math.random() * Math.min(160, 10 * 2 ** n));
}
const ANSWER_MARGIN_MS = 250;

/**
 * One usage debit, exactly once, on the balance it draws on: the balance item itself while the
 * balance is quiet, a lane of this container's while it is busy (lanes.ts explains both).
 * Every attempt is ONE TransactWriteItems: the balance item or the lane, the entry (keyed by
 * the idempotency key, so a retry finds the first answer), and for a sub-account with a monthly
 * limit its meter when the limit's allowance is taken. Nothing is charged on any error.
 */
export async function debit(d: DebitRequest): Promise<{ entry: LedgerEntryItem; replayed: boolean }> {
  let conflicts = 0;
  const trail: string[] = [];
  for (let attempt = 1; attempt <= MAX_ATTEMPTS && timeLeftMs() > ANSWER_MARGIN_MS; attempt++) {
    let hint = await accountHint(d.accountId);
    if (hint?.status !== 'active') hint = await refreshAccount(d.accountId);
    if (!hint) throw new AppError('not_found', 'Account not found');
    const scope = scopeOf(d.accountId, hint);
    const entry = entryOf(d, hint, scope);
    if (hint.status !== 'active') return refuse(idempotencyScopeOf(entry), entry, accountClosed());
    const state = scopeState(scope.id);
    // The scope whose rate this debit adds to: the pool's when a limited sub-account rides its lane.
    let drewOn = state;
    const firstTry = attempt === 1;
    const outcome = await oneAtATime(scope.head, async (): Promise<Outcome> => {
      const head = firstTry && state.readFirst && !state.lane ? await freshView(scope, state) : await balanceHint(scope.head);
      // What the account may draw on, as known here, holds only under a fence seen before it was read.
      if (!readUnder(hint, itemId(scope.head), head.fence)) {
        await refreshAccountUnder(d.accountId, itemId(scope.head), head.fence);
        return { kind: 'again' };
      }
      // A limited sub-account whose month is nearly spent takes its allowance debit by debit.
      const limitLanesOff = scope.limited && hint.lanesOffUntil > Date.now();
      trail.push(`${head.lanesOpen}${state.lane ? 'L' : ''}${limitLanesOff ? 'off' : ''}`);
      if (state.lane) return limitLanesOff ? releaseOwn(scope, state) : laneDebit(d, hint, scope, state, head, entry);
      const lanesWanted = head.lanesOpen > 0 || state.hotUntil > Date.now();
      if (lanesWanted && head.noLanesUntil <= Date.now()) {
        if (scope.limited && state.meterHotUntil <= Date.now()) {
          const pool = poolScopeOf(scope);
          drewOn = scopeState(pool.id);
          return ridePoolLane(d, hint, pool, drewOn, head, entry, {
            scope,
            state,
            writes: meterWrites(d, hint, d.month(), d.credits),
          });
        }
        if (!limitLanesOff) return claim(d, hint, scope, state, head, entry);
        // Near its limit a sub-account sets no allowance aside; while other lanes keep the
        // balance item from direct debits, it takes a lane holding just this debit's allowance
        // (given back before its next debit).
        if (head.lanesOpen > 0) return claim(d, hint, scope, state, head, entry, { exactAllowance: true });
      }
      return direct(d, hint, scope, state, head, entry);
    });
    trail.push(outcome.kind);
    switch (outcome.kind) {
      case 'done':
        if (!outcome.replayed) {
          noteUse(drewOn, d.credits);
          count('Debits');
          count('CreditsDebited', d.credits);
        }
        return { entry: outcome.entry, replayed: outcome.replayed };
      case 'refused':
        return refuse(idempotencyScopeOf(entry), entry, outcome.error);
      case 'collect': {
        // A balance collected for want of credits takes no lanes for a while; a limited
        // sub-account collected for want of allowance takes none of its own.
        const closed = await closeLanes(outcome.head, {
          scopes: outcome.scopes,
          noLanesUntil: outcome.scopes ? undefined : Date.now() + COLLECTED_MS,
          limitLanesOffUntil: outcome.scopes ? Date.now() + COLLECTED_MS : undefined,
        });
        forgetBalance(outcome.head);
        if (outcome.scopes) {
          const found = await getAccountWithMeter(d.accountId);
          if (found) {
            const { account, meter } = found;
            // Even with no lane to collect, this container debits one by one now: the month's
            // room is less than a lane would set aside.
            const fresh = rememberAccount(account, meter ?? null);
            fresh.lanesOffUntil = Math.max(fresh.lanesOffUntil, Date.now() + COLLECTED_MS);
            // Nothing of the month is set aside any more (here, or by a close that got there
            // first): the limit refuses only if the month, read now, has too little left.
            const refused = closed === 0 && outcome.refuseIfNone ? limitRefusal(meter, d.month(), d.credits) : undefined;
            if (refused?.kind === 'refused') return refuse(idempotencyScopeOf(entry), entry, refused.error);
          }
        }
        break;
      }
      case 'again':
        count('CommitRetries');
        if (outcome.conflicted) await backOff(++conflicts);
        else if (attempt > 3) await sleep(Math.random() * Math.min(attempt * 2, 40));
        break;
    }
  }
  logger.warn('debit gave up', { accountId: d.accountId, trail: trail.join(' ') });
  throw new AppError('try_again', 'The balance is busy; retry with the same Idempotency-Key', undefined, {
    retryAfterSeconds: 1,
  });
}

function ridePoolLane(
  d: DebitRequest,
  hint: AccountHint,
  pool: Scope,
  poolState: ScopeState,
  head: BalanceState,
  entry: LedgerEntryItem,
  rider: MeterRider,
): Promise<Outcome> {
  return poolState.lane
    ? laneDebit(d, hint, pool, poolState, head, entry, rider)
    : claim(d, hint, pool, poolState, head, entry, {}, rider);
}

/**
 * The balance as it is now, read before a debit that would otherwise go out on a view another
 * container has likely moved: a balance shared by many containers, each debiting it now and
 * then, is moved between any one container's debits, and a version-pinned write on the old view
 * fails (billed) before the retry on the returned item lands. A read costs less, and once a read
 * shows the view was right, this container stops reading first.
 */
async function freshView(scope: Scope, state: ScopeState): Promise<BalanceState> {
  const known = balanceKnown(scope.head) ? await balanceHint(scope.head) : undefined;
  forgetBalance(scope.head);
  const now = await balanceHint(scope.head);
  if (known && known.version === now.version) state.readFirst = false;
  return now;
}
