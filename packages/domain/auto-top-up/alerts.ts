import { logger } from '#core/logger';
import { count } from '#core/metrics';
import { accountKey, accountShape } from '#db/items/account';
import { alertedKey, alertedShape, alertLevelsKey, alertLevelsShape, clearAlerted, markAlerted } from '#db/items/auto-top-up';
import { foundItem, getItems } from '#db/read';
import { committedOrStale, transact, unhandled } from '#db/transact';
import { newOutboxId, outboxWrite } from '../outbox';

/**
 * Low-balance alerts: one email to the agency per crossing below its level, never one per
 * debit. The email is written with the balance's "alerted" mark, on condition that the mark is
 * absent, so however many debits or containers see the balance below, one email goes; the mark
 * goes once the balance is seen at or above the level again (the next crossing alerts anew).
 * A batch whose records show the balance back at or above the level after the mark was made
 * (its version is newer than the mark's), and now below it, is such a next crossing too: the
 * mark is replaced, conditioned on the one read, so a retry of that batch sends nothing more.
 */
export async function judgeAlert(
  agencyId: string,
  balance: 'pool' | 'wallet',
  accountId: string,
  credits: number,
  at: Date,
  read: { version: number; seen: Array<{ credits: number; version: number }> },
): Promise<'alerted' | 'already' | 'cleared' | 'none'> {
  const keys = [alertLevelsKey(agencyId), alertedKey(accountId, balance), accountKey(agencyId), accountKey(accountId)] as const;
  // The pool's account is the agency: BatchGet refuses a key twice.
  const found = await getItems(balance === 'pool' ? keys.slice(0, 3) : [...keys]);
  const levels = foundItem(found, keys[0], alertLevelsShape);
  const mark = foundItem(found, keys[1], alertedShape);
  const agency = foundItem(found, keys[2], accountShape);
  const account = foundItem(found, keys[3], accountShape);
  const level = balance === 'pool' ? levels?.poolBelow : levels?.walletBelow;
  if (level === null || level === undefined || credits >= level) {
    if (!mark) return 'none';
    await transact([{ name: 'alerted', write: clearAlerted(accountId, balance) }]);
    return 'cleared';
  }
  const markVersion = mark?.version;
  const rose = markVersion !== undefined && read.seen.some((s) => s.version > markVersion && s.credits >= level);
  if (mark && !rose) return 'already';
  const owner = agency;
  const named = account ?? agency;
  if (balance === 'wallet' && (named?.type !== 'sub_account' || (named.creditMode ?? 'manual') !== 'reselling')) return 'none';
  const result = await committedOrStale([
    {
      name: 'alerted',
      write: markAlerted(
        accountId,
        balance,
        level,
        at.toISOString(),
        read.version,
        { agencyId, credits },
        rose ? markVersion : undefined,
      ),
    },
    ...(owner?.email
      ? [
          outboxWrite(
            newOutboxId(),
            {
              type: 'low_balance.alert',
              agencyId,
              agencyName: owner.name,
              to: owner.email,
              balance,
              accountId,
              accountName: named?.name ?? accountId,
              level,
              credits,
            },
            at,
          ),
        ]
      : []),
  ]);
  switch (result.kind) {
    case 'committed':
      count('LowBalanceAlerts');
      logger.info('low-balance alert', { agencyId, accountId, balance, level, credits });
      return 'alerted';
    case 'stale':
      return 'already'; // the mark is there (or moved): another batch alerted this crossing
    default:
      return unhandled(result);
  }
}
