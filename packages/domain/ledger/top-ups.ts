import { AppError, notFound } from '../../core/errors';
import { newId } from '../../core/ids';
import type { AccountItem } from '../../db/accounts';
import { table } from '../../db/client';
import { itemKinds, keys } from '../../db/schema';
import type { ConditionsFailed } from '../../db/transact';
import { accountClosed } from '../accounts/errors';
import { actorOf, type Principal } from '../auth/principal';
import { rememberAccount } from './account-hints';
import { oneAtATime } from './balance-state';
import { commit, type Plan } from './commit';
import { entryView, requestHash } from './entries';
import type { GrantBody, TopUpBody } from './schemas';

/** What a credit into a balance writes; built per attempt so the entry carries the committing time. */
function creditPlan(
  principal: Principal,
  target: { agencyId: string; accountId: string; subAccountId: string | null; balance: 'pool' | 'wallet' },
  entry: { type: 'top_up' | 'grant'; credits: number; reference?: string; requestId?: string; body: unknown },
  idempotencyKey: string,
  extras: Plan['extras'] = [],
): () => Promise<Plan> {
  const balanceKey = target.balance === 'pool' ? keys.pool(target.agencyId) : keys.wallet(target.accountId);
  const fingerprint = requestHash(entry.type, target.accountId, entry.body);
  return async () => {
    const now = new Date();
    return {
      balanceKey,
      delta: entry.credits,
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
  const { entry, replayed } = await oneAtATime(keys.pool(agency.id), () => commit(makePlan, () => undefined));
  return { body: { entry: entryView(entry), balance: entry.balanceAfter }, replayed };
}

const GUARD_ITEM = 2;

/**
 * Agency grant: credits enter a reselling sub-account's wallet (the agency's own payment
 * server calls this once it has been paid, e.g. after an auto-recharge webhook).
 */
export async function grantCredits(principal: Principal, sub: AccountItem, body: GrantBody, idempotencyKey: string) {
  // The mode is checked inside the transaction (after idempotency), so a retry of a grant
  // that landed before a mode switch still returns its first result.
  const activeAndReselling = {
    ConditionCheck: {
      TableName: table(),
      Key: keys.account(sub.id),
      ConditionExpression: '#status = :active AND creditMode = :reselling',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':active': 'active', ':reselling': 'reselling' },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    },
  };
  const makePlan = creditPlan(
    principal,
    { agencyId: sub.agencyId, accountId: sub.id, subAccountId: sub.id, balance: 'wallet' },
    { type: 'grant', credits: body.credits, reference: body.reference, requestId: body.requestId, body },
    idempotencyKey,
    [activeAndReselling],
  );
  const judge = (failure: ConditionsFailed) => {
    const guard = failure.failed(GUARD_ITEM);
    if (!guard) return undefined;
    const account = guard.item as AccountItem | undefined;
    if (account) rememberAccount(account);
    if (account?.status !== 'active') throw accountClosed();
    throw wrongMode();
  };
  const { entry, replayed } = await oneAtATime(keys.wallet(sub.id), () => commit(makePlan, judge));
  return { body: { entry: entryView(entry), balance: entry.balanceAfter }, replayed };
}

const wrongMode = () =>
  new AppError('wrong_credit_mode', 'Grants go to sub-accounts in reselling mode; switch creditMode to reselling first');
