import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { logger } from '#core/logger';
import { accountIdOf } from '#db/items/account';
import { getAutoTopUp, putAutoTopUp } from '#db/items/auto-top-up';
import { poolKey, walletKey } from '#db/items/balance';
import { committedOrStale, unhandled } from '#db/transact';
import { exactBalanceAt } from '../ledger/balances';
import { judgeAlert } from './alerts';
import { sendAttempt, takeCrossing, topUpReady } from './attempt';

/**
 * The detector's reading of the pool and the wallets for auto top-up and low-balance alerts
 * (the recharge detector's stream batch, functions/stream/recharge-detector.ts). A balance that
 * moved either way is judged once per batch, at its balance NOW, read whole (item plus lanes:
 * a busy balance's debits write its lanes rather than its item, ledger/lanes.ts): down may be a
 * crossing (a top-up, an alert), up may re-arm one. Never at a record's own figure: a record
 * seen again (a retried batch, another container) must not pass for a new crossing once the
 * pool was topped up and re-armed meanwhile.
 */
export interface BalanceChange {
  balance: 'pool' | 'wallet';
  agencyId: string;
  accountId: string;
  at: Date;
  /**
   * The whole balance as this batch's records showed it, each with the item's version (none
   * from a lane, or while a lane holds part of it): a credit back above an alert level and a
   * debit below it again in one batch are a new crossing the balance now does not show.
   */
  seen?: Array<{ credits: number; version: number }>;
}

/** The pool or wallet a record moved, if any. */
export function balanceChangeOf(record: DynamoDBRecord, item: Record<string, unknown>): BalanceChange | undefined {
  const at = new Date();
  if (item.kind === 'lane' && (item.scope === 'P' || item.scope === 'W')) {
    const accountId = accountIdOf(String(item.headPk));
    const balance = item.scope === 'P' ? 'pool' : 'wallet';
    return { balance, agencyId: String(item.agencyId), accountId, at, seen: [] };
  }
  if (item.kind !== 'balance' || record.eventName !== 'MODIFY' || (item.sk !== 'POOL' && item.sk !== 'WALLET')) return undefined;
  const before = unmarshall((record.dynamodb?.OldImage ?? {}) as never) as { balance?: number };
  if (Number(before.balance) === Number(item.balance) && !item.lanesOpen) return undefined;
  return {
    balance: item.sk === 'POOL' ? 'pool' : 'wallet',
    agencyId: String(item.agencyId),
    accountId: accountIdOf(String(item.pk)),
    at: new Date(String(item.updatedAt)),
    seen: item.lanesOpen ? [] : [{ credits: Number(item.balance), version: Number(item.version) }],
  };
}

/**
 * One change per balance: the batch's first record of it (a failure is reported from there, so
 * nothing after it is skipped), with what every record of it showed.
 */
export function latestChanges(changes: Array<BalanceChange & { index: number }>) {
  const byBalance = new Map<string, BalanceChange & { index: number }>();
  for (const c of changes) {
    const id = `${c.balance}#${c.accountId}`;
    const first = byBalance.get(id);
    if (first) first.seen = [...(first.seen ?? []), ...(c.seen ?? [])];
    else byBalance.set(id, { ...c });
  }
  return [...byBalance.values()];
}

export async function judgeBalance(change: BalanceChange): Promise<void> {
  const key = change.balance === 'pool' ? poolKey(change.accountId) : walletKey(change.accountId);
  const { balance: credits, version } = await exactBalanceAt(key);
  if (change.balance === 'pool') await judgeTopUp(change.agencyId, credits, change.at);
  await judgeAlert(change.agencyId, change.balance, change.accountId, credits, change.at, { version, seen: change.seen ?? [] });
}

async function judgeTopUp(agencyId: string, credits: number, at: Date): Promise<void> {
  const state = await getAutoTopUp(agencyId);
  if (!state) return;
  // An attempt in flight whose answer is not recorded (a crash, Stripe unreachable): ask again, same key.
  if (state.openPurchaseId) return sendAttempt(agencyId);
  if (!topUpReady(state)) return;
  if (credits < state.threshold) {
    if ((await takeCrossing(agencyId, credits, at)) === 'taken') await sendAttempt(agencyId);
    return;
  }
  if (state.armed) return;
  // Back at or above the threshold: the next drop below it is a crossing again.
  const result = await committedOrStale([
    { name: 'state', write: putAutoTopUp({ ...state, armed: true, updatedAt: at.toISOString() }, state.version) },
  ]);
  switch (result.kind) {
    case 'committed':
      return;
    case 'stale':
      logger.info('auto top-up: settings moved while re-arming; the next change judges again', { agencyId });
      return;
    default:
      return unhandled(result);
  }
}
