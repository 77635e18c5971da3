import { now as clockNow } from '#core/clock';
import { AppError, notFound } from '#core/errors';
import { isIdOf, newId } from '#core/ids';
import { type AccountItem, checkActiveInMode, type SubAccountItem } from '#db/items/account';
import { poolKey, walletKey } from '#db/items/balance';
import type { LedgerEntryItem } from '#db/items/ledger-entry';
import { fulfilRechargeRequest, type RechargeRequestItem } from '#db/items/recharge';
import type { Key } from '#db/schema';
import { itemKinds } from '#db/schema';
import type { NamedItem } from '#db/transact';
import { accountClosed } from '../accounts/errors';
import { actorOf, type Principal } from '../auth/principal';
import { rememberAccount } from './account-hints';
import { exactBalance } from './balances';
import { type CommitResult, commit, type Plan } from './commit';
import { entryView, requestHash } from './entries';
import type { GrantBody, TopUpBody } from './schemas';

/** What a credit into a balance writes; built per attempt so the entry carries the committing time. */
function creditPlan<X extends string = never>(
  principal: Principal,
  target: { agencyId: string; accountId: string; subAccountId: string | null; balance: 'pool' | 'wallet' },
  entry: { type: 'top_up' | 'grant'; credits: number; reference?: string; requestId?: string; body: unknown },
  idempotencyKey: string,
  extras: NamedItem<X>[] = [],
): () => Promise<Plan<X>> {
  const balanceKey = target.balance === 'pool' ? poolKey(target.agencyId) : walletKey(target.accountId);
  const fingerprint = requestHash(entry.type, target.accountId, entry.body);
  return async () => {
    const now = clockNow();
    return {
      balanceKey,
      delta: entry.credits,
      answersBalance: true,
      entry: {
        kind: itemKinds.ledgerEntry,
        id: newId('transaction', now.getTime()),
        agencyId: target.agencyId,
        createdAt: now.toISOString(),
        type: entry.type,
        credits: entry.credits,
        balanceKind: target.balance,
        accountId: target.accountId,
        subAccountId: target.subAccountId,
        reference: entry.reference,
        requestId: entry.requestId,
        actor: actorOf(principal),
        idempotencyKey,
        requestHash: fingerprint,
      },
      extras,
    };
  };
}

/** Platform top-up: credits enter the agency's shared pool. */
export async function topUpAgency(principal: Principal, agency: AccountItem, body: TopUpBody, idempotencyKey: string) {
  if (agency.type !== 'agency') throw notFound('Agency');
  const makePlan = creditPlan(
    principal,
    { agencyId: agency.id, accountId: agency.id, subAccountId: null, balance: 'pool' },
    { type: 'top_up', credits: body.credits, reference: body.reference, body },
    idempotencyKey,
  );
  const { entry, replayed } = answered(await commit(makePlan, { oneAtATime: [poolKey(agency.id)] }));
  return { body: { entry: entryView(entry), balance: await balanceNow(entry, poolKey(agency.id)) }, replayed };
}

/**
 * Agency grant: MOVES credits from the agency pool into a reselling sub-account's wallet (the
 * agency's own payment server calls this once its client has paid it). One transaction: the
 * wallet +N with its `grant` entry (the idempotency record, the one answered), the pool −N on
 * condition it holds N with its own `grant` entry, and the sub-account's mode guard. A grant
 * never creates credits: too few in the pool → 402 insufficient_credits, nothing moves.
 */
export async function grantCredits(principal: Principal, sub: SubAccountItem, body: GrantBody, idempotencyKey: string) {
  // The mode is checked inside the transaction (after idempotency), so a retry of a grant
  // that landed before a mode switch still returns its first result.
  // A requestId that cannot be a recharge request's names nothing: 404 before any write.
  if (body.requestId !== undefined && !isIdOf(body.requestId, ['rechargeRequest'])) throw notFound('Recharge request');
  const toWallet = creditPlan<Extra>(
    principal,
    { agencyId: sub.agencyId, accountId: sub.id, subAccountId: sub.id, balance: 'wallet' },
    { type: 'grant', credits: body.credits, reference: body.reference, requestId: body.requestId, body },
    idempotencyKey,
    [
      {
        name: 'reselling',
        write: checkActiveInMode(sub.id, 'reselling'),
        onConditionFailed: (old) => {
          const account = old as AccountItem | undefined;
          if (account) rememberAccount(account);
          return account?.status !== 'active' ? accountClosed() : wrongMode();
        },
      },
    ],
  );
  const pool = poolKey(sub.agencyId);
  const makePlan = async (): Promise<Plan<Extra>> => {
    const plan = await toWallet();
    const out = { ...plan.entry, id: newId('transaction', Date.parse(plan.entry.createdAt)) };
    // The request is fulfilled in the same transaction as the credits move: both or neither.
    const fulfil = body.requestId
      ? requestMeanings(
          sub.id,
          fulfilRechargeRequest({
            agencyId: sub.agencyId,
            subAccountId: sub.id,
            requestId: body.requestId,
            at: plan.entry.createdAt,
            entryId: plan.entry.id,
          }),
        )
      : [];
    return {
      ...plan,
      // The request's refusals come first: they are answered before the sub-account's.
      extras: [...fulfil, ...plan.extras],
      counter: { balanceKey: pool, delta: -body.credits, entry: { ...out, credits: -body.credits, balanceKind: 'pool' } },
    };
  };
  const { entry, replayed } = answered(await commit(makePlan, { oneAtATime: [pool, walletKey(sub.id)] }));
  return { body: { entry: entryView(entry), balance: await balanceNow(entry, walletKey(sub.id)) }, replayed };
}

type Extra = 'reselling' | 'recharge' | 'rechargeState';

/** A credit's commit has no extras the use case reads itself: it commits, or replays the key's first outcome. */
function answered(result: CommitResult<Extra>): { entry: LedgerEntryItem; replayed: boolean } {
  if (result.kind === 'committed') return { entry: result.entry, replayed: false };
  if (result.kind === 'replayed') return { entry: result.entry, replayed: true };
  throw new Error(`A credit's commit came to ${result.kind}`);
}

/** What the fulfilment of a recharge request failing means: absent, or another sub-account's → unknown here; fulfilled or expired → closed. */
const requestMeanings = (subAccountId: string, [request, state]: ReturnType<typeof fulfilRechargeRequest>) => [
  {
    ...request,
    onConditionFailed: (old: Record<string, unknown> | undefined) => {
      const item = old as RechargeRequestItem | undefined;
      return !item || item.subAccountId !== subAccountId ? notFound('Recharge request') : rechargeRequestClosed(item);
    },
  },
  { ...state, onConditionFailed: () => rechargeRequestClosed(undefined) },
];

const rechargeRequestClosed = (item: RechargeRequestItem | undefined) =>
  new AppError(
    'recharge_request_closed',
    item?.status === 'fulfilled'
      ? `Recharge request ${item.id} was already fulfilled`
      : 'The recharge request has expired or was already fulfilled',
  );

const wrongMode = () =>
  new AppError('wrong_credit_mode', 'Grants go to sub-accounts in reselling mode; switch creditMode to reselling first');

/**
 * The balance the answer reports: the entry's own, or what it summed from the lanes when lanes
 * held part of it; an entry made before `balanceAnswered` existed, as read now.
 */
async function balanceNow(entry: LedgerEntryItem, key: Key): Promise<number> {
  return entry.balanceAfter ?? entry.balanceAnswered ?? (await exactBalance(key)).balance;
}
