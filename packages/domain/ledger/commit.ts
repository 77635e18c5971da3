import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { AppError } from '../../core/errors';
import { getItem } from '../../db/accounts';
import { db, table } from '../../db/client';
import type { Key } from '../../db/schema';
import { itemKinds, keys } from '../../db/schema';
import { ConditionsFailed, type TransactItem, transact } from '../../db/transact';
import { type BalanceState, balanceHint, rememberBalance } from './balance-state';
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
 * key's first outcome exists), a refusal decided by `judge` (limits, closed accounts) or by
 * the balance (insufficient credits) — remembered under the key — or a stale hint or version
 * (refresh from the returned item and go again). `makePlan` runs per attempt, so an entry's
 * id and time are those of the attempt that commits.
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
      if (existing) return { entry: replay(existing.item as StoredOutcome | undefined, entry), replayed: true };
      const balance = err.failed(BALANCE_ITEM);
      if (balance) rememberBalance(plan.balanceKey, balance.item as Partial<BalanceState> | undefined);
      const outcome = judgeFailure(err, plan, judge);
      if (outcome instanceof AppError) return { entry: await storeRefusal(entry, outcome), replayed: false };
      if (outcome === 'stale_version' && attempt > 2) {
        // Another container moved this balance. Past a few rounds, a random pause breaks a
        // rhythm in which the same container keeps committing first.
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(attempt, 20)));
      }
    }
  }
  throw new AppError('try_again', 'The balance is busy; retry with the same Idempotency-Key', undefined, { 'retry-after': '1' });
}

/**
 * What a failed condition means: a refusal (the plan's own verdict on limits or closed
 * accounts, else too few credits), or a stale hint to retry with. A plan's `retry` (its guard
 * saw a mode switch or a new month) means the wrong balance may have been tried, so nothing
 * is concluded about the balance then.
 */
function judgeFailure(
  err: ConditionsFailed,
  plan: Plan,
  judge: (f: ConditionsFailed, p: Plan) => Verdict | undefined,
): AppError | 'stale_hint' | 'stale_version' {
  let verdict: Verdict | undefined;
  try {
    verdict = judge(err, plan);
  } catch (refused) {
    if (refused instanceof AppError && refusable.has(refused.code)) return refused;
    throw refused;
  }
  if (verdict === 'retry') return 'stale_hint';
  const balance = err.failed(BALANCE_ITEM);
  if (!balance) throw err; // a condition no plan expects to fail: a bug, not a retry
  const now = balance.item as Partial<BalanceState> | undefined;
  if (plan.delta < 0 && (now?.balance ?? 0) < -plan.delta) return insufficientCredits();
  return 'stale_version';
}

/** Refusals that depend on the ledger's state are remembered under the key, as Stripe does. */
const refusable = new Set(['insufficient_credits', 'credit_limit_reached', 'account_closed', 'wrong_credit_mode']);
const REFUSAL_TTL_SECONDS = 24 * 3600;

interface RefusalItem {
  kind: 'ledger_refusal';
  requestHash: string;
  code: AppError['code'];
  detail?: string;
  createdAt: string;
  ttl: number;
}
type StoredOutcome = LedgerEntryItem | RefusalItem;

/**
 * Records the refusal under the idempotency key (no credits moved, so it is not a ledger
 * entry and is not listed; it expires after a day) so that a retry of the same request gets
 * the same answer, then throws it. If a concurrent request with the same key got there
 * first, its outcome is the answer.
 */
async function storeRefusal(entry: LedgerEntryItem, refusal: AppError): Promise<never> {
  const key = entryKey(entry);
  const item: RefusalItem = {
    kind: 'ledger_refusal',
    requestHash: entry.requestHash,
    code: refusal.code,
    detail: refusal.detail,
    createdAt: entry.createdAt,
    ttl: Math.floor(Date.parse(entry.createdAt) / 1000) + REFUSAL_TTL_SECONDS,
  };
  try {
    await db.send(
      new PutCommand({ TableName: table(), Item: { ...key, ...item }, ConditionExpression: 'attribute_not_exists(pk)' }),
    );
  } catch (err) {
    if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
    replay(await getItem<StoredOutcome>(key), entry);
  }
  throw refusal;
}

export const insufficientCredits = () => new AppError('insufficient_credits', 'Not enough credits for this charge');

/** The first outcome under this key: its entry again, or its refusal again; another body → 409. */
function replay(stored: StoredOutcome | undefined, attempted: LedgerEntryItem): LedgerEntryItem {
  if (!stored) throw new Error('Idempotency record failed its condition but was not returned');
  if (stored.requestHash !== attempted.requestHash) {
    throw new AppError('idempotency_key_reused', 'Idempotency-Key was already used with a different request');
  }
  if (stored.kind === 'ledger_refusal')
    throw new AppError(stored.code, stored.detail, undefined, { 'idempotent-replayed': 'true' });
  return stored;
}

function balanceUpdate(plan: Plan, state: BalanceState): TransactItem {
  const next = state.balance + plan.delta;
  const credit = plan.delta > 0;
  return {
    Update: {
      TableName: table(),
      Key: plan.balanceKey,
      UpdateExpression:
        'SET #balance = :next, #version = :nextVersion, #kind = :kind, #agencyId = :agencyId, #updatedAt = :now ADD #total :amount',
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
        ':kind': itemKinds.balance,
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
        ...entryKey(entry),
        ...keys.ledgerIndex(entry.agencyId, entry.id),
        ...entry,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

const entryKey = (e: LedgerEntryItem) => keys.ledgerEntry(e.agencyId, operationOf(e), scopeOf(e), e.idempotencyKey);

/** Idempotency keys are scoped by operation and by the account they act on. */
export const operationOf = (e: Pick<LedgerEntryItem, 'type'>) =>
  e.type === 'top_up' ? 'top_up' : e.type === 'grant' ? 'grant' : 'usage';
const scopeOf = (e: Pick<LedgerEntryItem, 'accountId'>) => e.accountId;
