import { now as clockNow, utcDate, utcMonth } from '../../core/clock';
import { AppError, notFound } from '../../core/errors';
import { newId } from '../../core/ids';
import { count } from '../../core/metrics';
import { type AccountItem, chargeMeter } from '../../db/items/account';
import { poolKey, walletKey } from '../../db/items/balance';
import { addUsage } from '../../db/items/usage-day';
import { itemKinds } from '../../db/schema';
import { accountClosed } from '../accounts/errors';
import { actorOf, type Principal } from '../auth/principal';
import { accountHint, noteMeterMonth, rememberAccount } from './account-hints';
import { oneAtATime } from './balance-state';
import { commit, type Failure, type Plan } from './commit';
import { requestHash } from './entries';
import { creditsPerUnit, type UsageBody } from './schemas';

type Extra = 'meter' | 'usageDay';

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

  const makePlan = async (): Promise<Plan<Extra>> => {
    const hint = (await accountHint(accountId)) ?? first;
    const now = clockNow();
    month = utcMonth(now);
    const fromWallet = hint.type === 'sub_account' && hint.creditMode === 'reselling';
    const usageDay = {
      name: 'usageDay' as const,
      write: addUsage(hint.agencyId, accountId, utcDate(now), body.type, credits, fromWallet),
    };
    const meter = {
      name: 'meter' as const,
      write: chargeMeter({
        accountId,
        creditMode: hint.creditMode,
        hasLimit: hint.hasLimit,
        seenMonth: hint.meterMonth,
        month,
        credits,
        poolCredits: fromWallet ? 0 : credits,
      }),
    };
    return {
      balanceKey: fromWallet ? walletKey(accountId) : poolKey(hint.agencyId),
      delta: -credits,
      entry: {
        kind: itemKinds.ledgerEntry,
        id: newId('transaction', now.getTime()),
        agencyId: hint.agencyId,
        createdAt: now.toISOString(),
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
      extras: hint.type === 'sub_account' ? [meter, usageDay] : [usageDay],
    };
  };

  /** The meter's failed condition: closed, over the limit, or only a stale hint (mode, month). */
  const judge = (failure: Failure<Extra>) => {
    const meter = failure.failed('meter');
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
    first.type === 'sub_account' && first.creditMode === 'reselling' ? walletKey(accountId) : poolKey(first.agencyId);
  const outcome = await oneAtATime(initialKey, () => commit(makePlan, judge));
  if (!outcome.replayed) {
    if (first.type === 'sub_account') noteMeterMonth(accountId, month);
    count('Debits');
    count('CreditsDebited', credits);
  }
  return outcome;
}
