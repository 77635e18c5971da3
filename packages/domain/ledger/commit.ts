import { timeLeftMs } from '#core/deadline';
import { AppError } from '#core/errors';
import { count } from '#core/metrics';
import { type BalanceCounter, MAX_BALANCE, moveBalance } from '#db/items/balance';
import { getLanes } from '#db/items/lane';
import {
  getIdempotencyRecord,
  type IdempotencyRecord,
  type IdempotencyScope,
  type LedgerEntryItem,
  putEntry,
  putRefusal,
} from '#db/items/ledger-entry';
import type { Key } from '#db/schema';
import { attempt, type Failed, type NamedItem, type TransactResult } from '#db/transact';
import { type BalanceState, balanceHint, oneAtATimeOn, rememberBalance } from './balance-state';
import { closeLanes } from './lane-close';
import { COLLECTED_MS } from './lanes';

/** One side of a movement: a balance, its signed change, and the entry that records it. */
export interface Leg {
  balanceKey: Key;
  /** Signed change of the balance. */
  delta: number;
  entry: Omit<LedgerEntryItem, 'balanceAfter'>;
  /** The balance's lifetime total to add to, when not the default for the direction (balance.ts): a refund's `refunded`. */
  total?: BalanceCounter;
  /** The answer names the balance this leaves (top-ups, grants): with lanes open, sum it into `balanceAnswered`. */
  answersBalance?: boolean;
}

export interface Plan<X extends string = never, M = undefined> extends Leg {
  /**
   * The other side of a transfer (a grant takes from the pool what it gives the wallet): a
   * second balance and its own entry, in the same transaction. The plan's own entry stays the
   * idempotency record; the counter entry is keyed apart (`counterScope`).
   */
  counter?: Leg;
  /**
   * More items of the same transaction (guards, meters, counters), each under its own name. A
   * refusal an extra's failed condition stands for is declared on the item (`onConditionFailed`);
   * any other meaning, in the commit's `onFailed`.
   */
  extras: NamedItem<X>[];
  /** What the use case learned making this plan, handed back when it commits. */
  memo?: M;
}

/** A plan that cannot be made (what it depends on has changed): the commit answers `stopped` with the reason. */
export interface Stop<S> {
  stop: S;
}

export interface CommitOptions<X extends string> {
  /**
   * The balances this container moves one at a time while the commit runs (balance-state.ts):
   * the plan's, and a transfer's other side.
   */
  oneAtATime: Key[];
  /**
   * What a failed condition on an extra means when the item declares no refusal: `retry` (what
   * the plan was made from moved: plan again), or `return` (the use case reads it: the commit
   * answers `failed`). `balance: 'retry'` for a plan sized to what the balance holds, which is
   * then never short, only stale.
   */
  onFailed?: Partial<Record<X | 'balance', 'retry' | 'return'>>;
}

/**
 * What a commit came to, short of a refusal (thrown as the request's answer, once remembered
 * under the key): the plan committed (with its memo), the key's first outcome was an entry
 * (`replayed`), an extra the use case reads failed (`failed`, as the items are now), or the
 * plan could not be made (`stopped`).
 */
export type CommitResult<X extends string, M = undefined, S = never> =
  | { kind: 'committed'; entry: LedgerEntryItem; memo: M | undefined }
  | { kind: 'replayed'; entry: LedgerEntryItem }
  | { kind: 'failed'; failed: Failed<X> }
  | { kind: 'stopped'; reason: S };

type Own = 'balance' | 'entry' | 'counterBalance' | 'counterEntry';

/**
 * Version conflicts are normal under load on one pool (another container committed first);
 * each retry costs one call, no read. The cap only stops a pathological starvation, and the
 * request's deadline stops the loop in time to answer 503 itself.
 */
const MAX_ATTEMPTS = 100;
const ANSWER_MARGIN_MS = 250;

/**
 * Commits one credit movement as ONE TransactWriteItems: the balance item (optimistic version
 * check + never-below-zero / never-above-the-ceiling check), the immutable entry (whose key is
 * the idempotency key, so its put is also the idempotency record), for a transfer the other
 * balance and its entry likewise, and the plan's extras. On a failed condition the
 * cancellation reasons carry the items as they are, which tell apart (`verdictOf`): idempotent
 * replay (the key's first outcome exists), a refusal an extra declares (limits, closed
 * accounts) or a balance's (insufficient credits, the ceiling) — remembered under the key —,
 * what the use case reads itself (`onFailed`), or a stale hint or version on either side
 * (refresh that side from the returned item and go again). `makePlan` runs per attempt, so an
 * entry's id and time are those of the attempt that commits.
 */
export function commit<X extends string = never, M = undefined, S = never>(
  makePlan: () => Promise<Plan<X, M> | Stop<S>>,
  options: CommitOptions<X>,
): Promise<CommitResult<X, M, S>> {
  return oneAtATimeOn(options.oneAtATime, () => commitNow(makePlan, options));
}

async function commitNow<X extends string, M, S>(
  makePlan: () => Promise<Plan<X, M> | Stop<S>>,
  options: CommitOptions<X>,
): Promise<CommitResult<X, M, S>> {
  for (let round = 1; round <= MAX_ATTEMPTS && timeLeftMs() > ANSWER_MARGIN_MS; round++) {
    const plan = await makePlan();
    if ('stop' in plan) return { kind: 'stopped', reason: plan.stop };
    const [state, counterState] = await Promise.all([
      balanceHint(plan.balanceKey),
      plan.counter && balanceHint(plan.counter.balanceKey),
    ]);
    const entry: LedgerEntryItem = {
      ...plan.entry,
      balanceAfter: balanceAfter(state, plan.delta),
      ...(plan.answersBalance && state.lanesOpen > 0
        ? { balanceAnswered: await withLanes(plan.balanceKey, state, plan.delta) }
        : {}),
    };
    const scope = scopeOf(entry);
    const counter = plan.counter && counterState && { leg: plan.counter, state: counterState };
    const counterEntry: LedgerEntryItem | undefined = counter && {
      ...counter.leg.entry,
      balanceAfter: balanceAfter(counter.state, counter.leg.delta),
    };
    for (const leg of [plan, plan.counter]) if (leg && leg.delta > MAX_BALANCE) throw balanceLimitExceeded();
    const result = await attempt<Own | X>([
      { name: 'balance', write: moveBalance(moveOf(plan, state, entry)) },
      { name: 'entry', write: putEntry(scope, entry) },
      ...(counter && counterEntry
        ? [
            { name: 'counterBalance' as const, write: moveBalance(moveOf(counter.leg, counter.state, counterEntry)) },
            { name: 'counterEntry' as const, write: putEntry(counterScope(scope), counterEntry) },
          ]
        : []),
      ...plan.extras,
    ]);
    if (result.kind === 'committed') {
      rememberBalance(plan.balanceKey, { ...state, balance: state.balance + plan.delta, version: state.version + 1 });
      if (counter) {
        rememberBalance(counter.leg.balanceKey, {
          ...counter.state,
          balance: counter.state.balance + counter.leg.delta,
          version: counter.state.version + 1,
        });
      }
      return { kind: 'committed', entry, memo: plan.memo };
    }
    if (result.kind === 'conflict') throw new Error('A commit retries contention itself; it cannot conflict');
    const { balance, counterBalance } = result.failed as Failed<Own>;
    if (balance) rememberBalance(plan.balanceKey, balance.old as Partial<BalanceState> | undefined);
    if (counterBalance && plan.counter) {
      rememberBalance(plan.counter.balanceKey, counterBalance.old as Partial<BalanceState> | undefined);
    }
    const verdict = verdictOf(result, plan, options.onFailed ?? {});
    switch (verdict.kind) {
      case 'replay':
        return { kind: 'replayed', entry: replayOf(verdict.old, entry) };
      case 'return':
        return { kind: 'failed', failed: result.failed as Failed<X> };
      case 'refuse': {
        // Too few credits in the balance item while lanes hold some: bring them back, then judge again.
        const short = verdict.error.code === 'insufficient_credits' && shortLegWithLanes(result.failed, plan);
        if (short) {
          await closeLanes(short, { noLanesUntil: Date.now() + COLLECTED_MS });
          continue;
        }
        if (!refusable.has(verdict.error.code)) throw verdict.error;
        const replayed = await refuse(scope, entry, verdict.error);
        return { kind: 'replayed', entry: replayed.entry };
      }
      case 'retry':
        count('CommitRetries');
        if (verdict.why === 'stale_version' && round > 2) {
          // Another container moved this balance. Past a few rounds, a random pause breaks a
          // rhythm in which the same container keeps committing first.
          await new Promise((r) => setTimeout(r, Math.random() * Math.min(round, 20)));
        }
    }
  }
  throw new AppError('try_again', 'The balance is busy; retry with the same Idempotency-Key', undefined, {
    retryAfterSeconds: 1,
  });
}

/**
 * The balance right after the move, when there is one to tell: while lanes hold part of the
 * balance (lanes.ts), this item alone is not the balance, and the entry records null.
 */
const balanceAfter = (state: BalanceState, delta: number) => (state.lanesOpen > 0 ? null : state.balance + delta);

/**
 * The balance after `delta`, lanes included, for a state whose lanes are open. The commit is
 * conditioned on the item's version, and every claim, refill or collect of a lane moves it: if
 * the commit succeeds, the lanes read here are the lanes it left, less their own debits since.
 */
async function withLanes(key: Key, state: BalanceState, delta: number): Promise<number> {
  const lanes = await getLanes(key, state.laneSlots);
  return state.balance + delta + lanes.reduce((n, lane) => n + lane.credits, 0);
}

/** The side of the move that lacked credits while lanes of its balance hold some, if any. */
function shortLegWithLanes(failed: Failed<Own>, plan: Plan<string, unknown>): Key | undefined {
  for (const [name, leg] of [
    ['balance', plan],
    ['counterBalance', plan.counter],
  ] as const) {
    const seen = leg && (failed[name]?.old as Partial<BalanceState> | undefined);
    if (leg && leg.delta < 0 && (seen?.lanesOpen ?? 0) > 0 && (seen?.balance ?? 0) < -leg.delta) return leg.balanceKey;
  }
  return undefined;
}

const moveOf = (leg: Leg, from: BalanceState, entry: LedgerEntryItem) => ({
  key: leg.balanceKey,
  agencyId: entry.agencyId,
  from,
  delta: leg.delta,
  at: entry.createdAt,
  counter: leg.total,
});

/** What a commit's failed conditions mean, and so what it does next. */
export type Verdict =
  | { kind: 'replay'; old: Record<string, unknown> | undefined }
  | { kind: 'refuse'; error: AppError }
  | { kind: 'return' }
  | { kind: 'retry'; why: 'stale_hint' | 'stale_version' };

/**
 * What a failed condition means, in this order: the key's first outcome exists (replay); an
 * extra's declared refusal; an extra the use case reads itself (`return`) or one whose reading
 * moved (`retry` with a fresh hint: the wrong balance may have been tried, so nothing is
 * concluded about the balance then); else, judged on either side as it is now, too few credits
 * where credits leave or the ceiling where they arrive, or a stale version to retry with.
 */
export function verdictOf<X extends string>(
  result: Exclude<TransactResult<Own | X>, { kind: 'committed' } | { kind: 'conflict' }>,
  plan: Pick<Plan<X, unknown>, 'delta' | 'counter'>,
  onFailed: Partial<Record<X | 'balance', 'retry' | 'return'>>,
): Verdict {
  const failed = result.failed;
  const own = failed as Failed<Own>;
  if (own.entry) return { kind: 'replay', old: own.entry.old };
  // The two entries are written together or not at all: one without the other is a bug.
  if (own.counterEntry) throw new Error('The counter entry failed its condition without its entry');
  if (result.kind === 'refused') {
    if (result.error instanceof AppError) return { kind: 'refuse', error: result.error };
    throw result.error;
  }
  const read = (Object.keys(failed) as (X | 'balance')[]).map((name) => onFailed[name]);
  if (read.includes('return')) return { kind: 'return' };
  if (read.includes('retry')) return { kind: 'retry', why: 'stale_hint' };
  let stale = false;
  for (const [name, leg] of [
    ['balance', plan],
    ['counterBalance', plan.counter],
  ] as const) {
    const seen = leg && own[name];
    if (!seen) continue;
    const now = (seen.old as Partial<BalanceState> | undefined)?.balance ?? 0;
    if (leg.delta < 0 && now < -leg.delta) return { kind: 'refuse', error: insufficientCredits() };
    if (leg.delta > 0 && now + leg.delta > MAX_BALANCE) return { kind: 'refuse', error: balanceLimitExceeded() };
    stale = true;
  }
  // A condition no plan expects to fail: a bug, not a retry.
  if (!stale) throw new Error(`Unexpected failed conditions: ${Object.keys(failed).join(', ')}`);
  return { kind: 'retry', why: 'stale_version' };
}

/** Refusals that depend on the ledger's state are remembered under the key, as Stripe does. */
const refusable = new Set([
  'insufficient_credits',
  'credit_limit_reached',
  'account_closed',
  'wrong_credit_mode',
  'balance_limit_exceeded',
]);

/**
 * Records the refusal under the idempotency key (no credits moved, so it is not a ledger
 * entry and is not listed; it expires after a day) so that a retry of the same request gets
 * the same answer, then throws it. If a concurrent request with the same key got there
 * first, its outcome is the answer.
 */
export async function refuse(
  scope: IdempotencyScope,
  entry: LedgerEntryItem,
  refusal: AppError,
): Promise<{ entry: LedgerEntryItem; replayed: true }> {
  const stored = await putRefusal(scope, {
    requestHash: entry.requestHash,
    code: refusal.code,
    detail: refusal.detail,
    createdAt: entry.createdAt,
  });
  // The key's first outcome is the answer: the same request committed meanwhile, or was refused.
  if (!stored) return { entry: replayOf(await getIdempotencyRecord(scope), entry), replayed: true };
  throw refusal;
}

export const insufficientCredits = () => new AppError('insufficient_credits', 'Not enough credits for this charge');
export const balanceLimitExceeded = () =>
  new AppError(
    'balance_limit_exceeded',
    `A balance holds at most ${MAX_BALANCE.toLocaleString('en-US')} credits; this would take it past that`,
  );

/** The first outcome under this key: its entry again, or its refusal again; another body → 409. */
export function replayOf(found: unknown, attempted: LedgerEntryItem): LedgerEntryItem {
  const stored = found as IdempotencyRecord | undefined;
  if (!stored) throw new Error('Idempotency record failed its condition but was not returned');
  if (stored.requestHash !== attempted.requestHash) {
    throw new AppError('idempotency_key_reused', 'Idempotency-Key was already used with a different request');
  }
  if (stored.kind === 'ledger_refusal') throw new AppError(stored.code, stored.detail, undefined, { replayed: true });
  return stored;
}

/** Idempotency keys are scoped by operation and by the account they act on. */
export const operationOf = (e: Pick<LedgerEntryItem, 'type'>) =>
  e.type === 'top_up' || e.type === 'grant' || e.type === 'purchase' || e.type === 'refund' || e.type === 'dispute'
    ? e.type
    : 'usage';
const scopeOf = (e: LedgerEntryItem): IdempotencyScope => ({
  agencyId: e.agencyId,
  operation: operationOf(e),
  accountId: e.accountId,
  idempotencyKey: e.idempotencyKey,
});
/** Where a transfer's other entry is keyed: derived from the request's key, never a client's own. */
const counterScope = (s: IdempotencyScope): IdempotencyScope => ({ ...s, operation: `${s.operation}.counter` });
