import { AppError, notFound } from '../../core/errors';
import { newId } from '../../core/ids';
import { table } from '../../db/client';
import type { AccountItem } from '../../db/accounts';
import { itemKinds, keys } from '../../db/schema';
import type { ConditionsFailed } from '../../db/transact';
import type { Principal } from '../auth/principal';
import { rememberAccount } from './account-hints';
import { oneAtATime } from './balance-state';
import { commit, type Plan } from './commit';
import { actorFrom, entryView, requestHash } from './entries';
import type { GrantBody, TopUpBody } from './schemas';

/** Platform top-up: credits enter the agency's shared pool. */
export async function topUpAgency(principal: Principal, agency: AccountItem, body: TopUpBody, idempotencyKey: string) {
  if (agency.type !== 'agency') throw notFound('Agency');
  const now = new Date();
  const plan: Plan = {
    balanceKey: keys.pool(agency.id),
    delta: body.credits,
    entry: {
      kind: itemKinds.ledgerEntry,
      id: newId('transaction', now.getTime()),
      agencyId: agency.id,
      createdAt: now.toISOString(),
      type: 'top_up',
      credits: body.credits,
      balanceKind: 'pool',
      accountId: agency.id,
      subAccountId: null,
      reference: body.reference,
      actor: actorFrom(principal),
      idempotencyKey,
      requestHash: requestHash('top_up', agency.id, body),
    },
    extras: [],
  };
  const { entry, replayed } = await oneAtATime(plan.balanceKey, () => commit(async () => plan, () => undefined));
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
  const now = new Date();
  const plan: Plan = {
    balanceKey: keys.wallet(sub.id),
    delta: body.credits,
    entry: {
      kind: itemKinds.ledgerEntry,
      id: newId('transaction', now.getTime()),
      agencyId: sub.agencyId,
      createdAt: now.toISOString(),
      type: 'grant',
      credits: body.credits,
      balanceKind: 'wallet',
      accountId: sub.id,
      subAccountId: sub.id,
      reference: body.reference,
      requestId: body.requestId,
      actor: actorFrom(principal),
      idempotencyKey,
      requestHash: requestHash('grant', sub.id, body),
    },
    // The account must still be active and reselling when the credits land.
    extras: [
      {
        ConditionCheck: {
          TableName: table(),
          Key: keys.account(sub.id),
          ConditionExpression: '#status = :active AND creditMode = :reselling',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':active': 'active', ':reselling': 'reselling' },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
    ],
  };
  const judge = (failure: ConditionsFailed) => {
    const guard = failure.failed(GUARD_ITEM);
    if (!guard) return undefined;
    const account = guard.item as AccountItem | undefined;
    if (account) rememberAccount(account);
    if (account?.status !== 'active') throw new AppError('account_closed', 'The sub-account is closed');
    throw wrongMode();
  };
  const { entry, replayed } = await oneAtATime(plan.balanceKey, () => commit(async () => plan, judge));
  return { body: { entry: entryView(entry), balance: entry.balanceAfter }, replayed };
}

const wrongMode = () =>
  new AppError('wrong_credit_mode', 'Grants go to sub-accounts in reselling mode; switch creditMode to reselling first');
