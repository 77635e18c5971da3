import { AppError, notFound } from '../../core/errors';
import { newId } from '../../core/ids';
import type { AccountItem } from '../../db/accounts';
import { table } from '../../db/client';
import { itemKinds, keys } from '../../db/schema';
import type { TransactItem } from '../../db/transact';
import { accountClosed } from '../accounts/errors';
import { actorOf, type Principal } from '../auth/principal';
import { type AccountHint, accountHint, noteMeterMonth, rememberAccount } from './account-hints';
import { oneAtATime } from './balance-state';
import { commit, type Plan } from './commit';
import { requestHash } from './entries';
import { creditsPerUnit, type UsageBody } from './schemas';

const METER_ITEM = 2;

/**
 * Charges usage to the account: from the agency pool for the agency itself and for manual-mode
 * sub-accounts (within their monthly limit), from the wallet for reselling-mode ones. One
 * transaction, one round trip when this container's hints are current; nothing is charged on
 * any error.
 */
export async function recordUsage(principal: Principal, accountId: string, body: UsageBody, idempotencyKey: string) {
  if (principal.kind === 'assist' && principal.accountId !== accountId) throw notFound('Account');
  const first = await accountHint(accountId);
  if (!first) throw notFound('Account');

  const credits = body.quantity * creditsPerUnit[body.type];
  const requestFingerprint = requestHash('usage', accountId, body);
  let month = '';

  const makePlan = async (): Promise<Plan> => {
    const hint = (await accountHint(accountId))!;
    const now = new Date();
    const iso = now.toISOString();
    month = iso.slice(0, 7);
    const fromWallet = hint.type === 'sub_account' && hint.creditMode === 'reselling';
    const day = usageDayUpdate(hint.agencyId, accountId, iso, body.type, credits);
    return {
      balanceKey: fromWallet ? keys.wallet(accountId) : keys.pool(hint.agencyId),
      delta: -credits,
      entry: {
        kind: itemKinds.ledgerEntry,
        id: newId('transaction', now.getTime()),
        agencyId: hint.agencyId,
        createdAt: iso,
        type: body.type,
        credits: -credits,
        balanceKind: fromWallet ? 'wallet' : 'pool',
        accountId,
        subAccountId: hint.type === 'sub_account' ? accountId : null,
        contactId: body.contactId,
        campaignId: body.campaignId,
        conversationId: body.conversationId,
        actor: actorOf(principal),
        idempotencyKey,
        requestHash: requestFingerprint,
      },
      extras: hint.type === 'sub_account' ? [meterUpdate(accountId, hint, month, credits), day] : [day],
    };
  };

  const judge = (failure: { failed(i: number): { item?: Record<string, unknown> } | undefined }) => {
    const meter = first.type === 'sub_account' ? failure.failed(METER_ITEM) : undefined;
    if (!meter) return undefined;
    const account = meter.item as AccountItem | undefined;
    if (!account) throw notFound('Account');
    rememberAccount(account);
    if (account.status !== 'active') throw accountClosed();
    if (typeof account.monthlyCreditLimit === 'number' && (account.creditMode ?? 'manual') === 'manual') {
      const remaining = account.meterMonth === month ? (account.meterRemaining ?? 0) : account.monthlyCreditLimit;
      if (remaining < credits) {
        throw new AppError(
          'credit_limit_reached',
          `This charge would exceed the sub-account's monthly limit of ${account.monthlyCreditLimit} credits`,
        );
      }
    }
    return 'retry' as const;
  };

  const initialKey =
    first.type === 'sub_account' && first.creditMode === 'reselling' ? keys.wallet(accountId) : keys.pool(first.agencyId);
  const outcome = await oneAtATime(initialKey, () => commit(makePlan, judge));
  if (first.type === 'sub_account' && !outcome.replayed) noteMeterMonth(accountId, month);
  return outcome;
}

/**
 * The sub-account's guard and meter in one update: it must be active and in the mode the plan
 * assumed, the meter must be on this month (else it rolls over), and in manual mode a limit
 * must have room. The meter counts all usage (`meterUsed`, shown as creditsUsedThisMonth) and
 * apart what was drawn from the pool (`meterPoolUsed`): the limit guards the agency's pool, so
 * `meterRemaining = limit − meterPoolUsed`. Wallet credits were bought by the client and are
 * not limited.
 */
function meterUpdate(accountId: string, hint: AccountHint, month: string, credits: number): TransactItem {
  const rollover = hint.meterMonth !== month;
  const fromPool = hint.creditMode === 'manual';
  const poolCredits = fromPool ? credits : 0;
  const conditions = ['#status = :active', 'creditMode = :mode'];
  const values: Record<string, unknown> = {
    ':active': 'active',
    ':mode': hint.creditMode,
    ':q': credits,
    ':month': month,
    ':poolQ': poolCredits,
  };

  if (!rollover) {
    conditions.push('meterMonth = :month');
  } else if (hint.meterMonth) {
    conditions.push('meterMonth = :prev');
    values[':prev'] = hint.meterMonth;
  } else {
    conditions.push('attribute_not_exists(meterMonth)');
  }

  if (!hint.hasLimit) conditions.push('attribute_not_exists(monthlyCreditLimit)');
  else if (!fromPool) conditions.push('attribute_exists(monthlyCreditLimit)');
  else conditions.push(rollover ? 'monthlyCreditLimit >= :q' : 'meterRemaining >= :q');

  const remaining = hint.hasLimit
    ? rollover
      ? ', meterRemaining = monthlyCreditLimit - :poolQ'
      : ', meterRemaining :negativePoolQ'
    : '';
  if (hint.hasLimit && !rollover) values[':negativePoolQ'] = -poolCredits;
  const update = rollover
    ? `SET meterMonth = :month, meterUsed = :q, meterPoolUsed = :poolQ${remaining}`
    : `ADD meterUsed :q, meterPoolUsed :poolQ${remaining}`;
  return {
    Update: {
      TableName: table(),
      Key: keys.account(accountId),
      UpdateExpression: update,
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: values,
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** The dashboards' counters: per account per UTC day, total and by type. */
function usageDayUpdate(agencyId: string, accountId: string, iso: string, type: string, credits: number): TransactItem {
  const date = iso.slice(0, 10);
  return {
    Update: {
      TableName: table(),
      Key: keys.usageDay(agencyId, date, accountId),
      UpdateExpression:
        'ADD #total :q, #type :q SET #kind = :kind, #agencyId = :agencyId, #accountId = :accountId, #date = :date',
      ExpressionAttributeNames: {
        '#total': 'total',
        '#type': type,
        '#date': 'date',
        '#kind': 'kind',
        '#agencyId': 'agencyId',
        '#accountId': 'accountId',
      },
      ExpressionAttributeValues: {
        ':q': credits,
        ':kind': itemKinds.usageDay,
        ':agencyId': agencyId,
        ':accountId': accountId,
        ':date': date,
      },
    },
  };
}
