import { now as clockNow, utcMonth } from '#core/clock';
import { notFound } from '#core/errors';
import { actorOf, type Principal } from '../auth/principal';
import { type DebitRequest, debit } from './debit';
import { requestHash } from './entries';
import { creditsPerUnit, type UsageBody } from './schemas';

/**
 * Charges usage to the account: from the agency pool for the agency itself and for manual-mode
 * sub-accounts (within their monthly limit), from the wallet for reselling-mode ones. One
 * transaction, one round trip when this container's hints are current (debit.ts); nothing is
 * charged on any error.
 */
export async function recordUsage(principal: Principal, accountId: string, body: UsageBody, idempotencyKey: string) {
  if (principal.kind === 'assist' && principal.accountId !== accountId) throw notFound('Account');
  return debit(usageDebit(principal, accountId, body, idempotencyKey));
}

/** The debit a usage call asks for, the same on the single route and in a batch (so a key replays across both). */
export function usageDebit(principal: Principal, accountId: string, body: UsageBody, idempotencyKey: string): DebitRequest {
  const credits = body.quantity * creditsPerUnit[body.type];
  return {
    accountId,
    credits,
    entry: {
      type: body.type,
      credits: -credits,
      accountId,
      contactId: body.contactId,
      campaignId: body.campaignId,
      conversationId: body.conversationId,
      actor: actorOf(principal),
      idempotencyKey,
      requestHash: requestHash('usage', accountId, body),
    },
    clockNow,
    month: () => utcMonth(clockNow()),
  };
}
