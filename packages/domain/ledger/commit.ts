import { AppError } from '../../core/errors';
import { table } from '../../db/client';
import type { Key } from '../../db/schema';
import { ConditionsFailed, transact, type TransactItem } from '../../db/transact';
import { keys } from '../../db/schema';
import { balanceHint, rememberBalance, type BalanceState } from './balance-state';
import type { LedgerEntryItem } from './entries';

/** Index of the items every movement starts with; extras (guards, meters, counters) follow. */
export const BALANCE_ITEM = 0;
export const ENTRY_ITEM = 1;

export interface Plan {
  balanceKey: Key;
  /** Signed change of the balance. */
  delta: number;
  entry: Omit<LedgerEntryItem, 'balanceAfter'>;
  extras: TransactItem[];
}

/** A final outcome decided from a failed condition, or `retry` after refreshing a hint. */
export type Verdict = 'retry';

/**
 * Version conflicts are normal under load on one pool (another container committed first);
 * each retry costs one call, no read. The cap only stops a pathological starvation.
 */
const MAX_ATTEMPTS = 100;

/**
 * Commits one credit movement as ONE TransactWriteItems: the balance item (optimistic version
 * check + never-below-zero check), the immutable entry (whose key is the idempotency key, so
 * its put is also the idempotency record), and the plan's extras. On a failed condition the
 * cancellation reasons carry the items as they are, which tell apart: idempotent replay (the
 * entry exists), a final error decided by `judge` (limits, closed accounts), insufficient
 * credits, or a stale version (refresh and go again).
 */
export async function commit(
  makePlan: () => Promise<Plan>,
  judge: (failure: ConditionsFailed, plan: Plan) => Verdict | undefined,
): Promise<{ entry: LedgerEntryItem; replayed: boolean }> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const plan = await makePlan();
    const state = await balanceHint(plan.balanceKey);
    const balanceAfter = state.balance + plan.delta;
    const entry: LedgerEntryItem = { ...plan.entry, balanceAfter };
    try {
      await transact([balanceUpdate(plan, state), entryPut(entry), ...plan.extras]);
      rememberBalance(plan.balanceKey, { balance: balanceAfter, version: state.version + 1 });
      return { entry, replayed: false };
    } catch (err) {
      if (!(err instanceof ConditionsFailed)) throw err;
      const existing = err.failed(ENTRY_ITEM);
      if (existing) return { entry: replay(existing.item as LedgerEntryItem | undefined, entry), replayed: true };
      const verdict = judge(err, plan);
      const balance = err.failed(BALANCE_ITEM);
      if (balance) rememberBalance(plan.balanceKey, balance.item as Partial<BalanceState> | undefined);
      // A stale guard (mode switched, month rolled over) may also mean the wrong balance was
      // tried: re-plan before judging that balance.
      if (verdict === 'retry') continue;
      if (balance) {
        const now = balance.item as Partial<BalanceState> | undefined;
        if (plan.delta < 0 && (now?.balance ?? 0) < -plan.delta) throw insufficientCredits();
        // Another container moved this balance. Past a few rounds, a random pause breaks a
        // rhythm in which the same container keeps committing first.
        if (attempt > 2) await new Promise((r) => setTimeout(r, Math.random() * Math.min(attempt, 20)));
        continue;
      }
      throw err;
    }
  }
  throw new AppError('try_again', 'The balance is busy; retry with the same Idempotency-Key', undefined, { 'retry-after': '1' });
}

export const insufficientCredits = () => new AppError('insufficient_credits', 'Not enough credits for this charge');

function replay(stored: LedgerEntryItem | undefined, attempted: LedgerEntryItem): LedgerEntryItem {
  if (!stored) throw new Error('Idempotency record failed its condition but was not returned');
  if (stored.requestHash !== attempted.requestHash) {
    throw new AppError('idempotency_key_reused', 'Idempotency-Key was already used with a different request');
  }
  return stored;
}

function balanceUpdate(plan: Plan, state: BalanceState): TransactItem {
  const next = state.balance + plan.delta;
  const credit = plan.delta > 0;
  return {
    Update: {
      TableName: table(),
      Key: plan.balanceKey,
      UpdateExpression: 'SET #balance = :next, #version = :nextVersion, #kind = :kind, #agencyId = :agencyId, #updatedAt = :now ADD #total :amount',
      // The version pins the balance this entry's balanceAfter was computed from; the balance
      // check states the invariant itself, so no stale hint can ever overdraw.
      // A debit never creates the item: on a missing balance both checks fail.
      ConditionExpression: !credit
        ? '#version = :version AND #balance >= :amount'
        : state.version === 0
          ? 'attribute_not_exists(pk)'
          : '#version = :version',
      // Several of these names are DynamoDB reserved words (e.g. `consumed`): always alias.
      ExpressionAttributeNames: {
        '#balance': 'balance',
        '#version': 'version',
        '#kind': 'kind',
        '#agencyId': 'agencyId',
        '#updatedAt': 'updatedAt',
        '#total': credit ? 'purchased' : 'consumed',
      },
      ExpressionAttributeValues: {
        ':next': next,
        ':nextVersion': state.version + 1,
        ':kind': 'balance',
        ':agencyId': plan.entry.agencyId,
        ':now': plan.entry.createdAt,
        ':amount': Math.abs(plan.delta),
        ...(credit && state.version === 0 ? {} : { ':version': state.version }),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

function entryPut(entry: LedgerEntryItem): TransactItem {
  return {
    Put: {
      TableName: table(),
      Item: {
        ...keys.ledgerEntry(entry.agencyId, operationOf(entry), scopeOf(entry), entry.idempotencyKey),
        ...keys.ledgerIndex(entry.agencyId, entry.id),
        ...entry,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** Idempotency keys are scoped by operation and by the account they act on. */
export const operationOf = (e: Pick<LedgerEntryItem, 'type'>) =>
  e.type === 'top_up' ? 'top_up' : e.type === 'grant' ? 'grant' : 'usage';
const scopeOf = (e: Pick<LedgerEntryItem, 'accountId'>) => e.accountId;
