import { table } from '../client';
import { itemShape } from '../item-shape';
import { getItem } from '../read';
import { itemKinds, type Key, stored } from '../schema';
import type { TransactItem } from '../transact';
import { accountPartition } from './account';

/**
 * The agency's auto top-up (issue 22), one item in its own partition: the settings, the card
 * (Stripe's Customer and PaymentMethod ids, and what a person needs to recognise the card:
 * brand, last 4, expiry; nothing else of it), and the state of the crossings.
 *
 * A crossing is the pool going from at or above the threshold to below it. `armed` says the
 * next drop below the threshold is one: taking it disarms the item (in the transaction that
 * writes the top-up's purchase), and only seeing the pool at or above the threshold again arms
 * it. So however many debits or detector containers see the pool below the threshold, one
 * attempt is made per crossing. Every write is read-modify-write on `version`.
 */
export interface SavedCard {
  id: string;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
}

export interface TopUpAttempt {
  status: 'succeeded' | 'failed' | 'requires_action';
  at: string;
  reason?: string;
  purchaseId: string;
}

export interface AutoTopUpItem {
  kind: typeof itemKinds.autoTopUp;
  agencyId: string;
  enabled: boolean;
  threshold: number | null;
  credits: number | null;
  stripeCustomerId?: string;
  paymentMethod?: SavedCard;
  /** The setup-mode Checkout Session the platform made last: only its completion saves a card. */
  setupSessionId?: string;
  armed: boolean;
  /** Crossings taken so far: the next one's number names its Stripe idempotency key. */
  crossings: number;
  /** The attempt in flight (its purchase), until Stripe's answer is recorded. */
  openPurchaseId?: string;
  /** The UTC day `dayCount` counts attempts of, and the day the agency was told the cap was reached. */
  day?: string;
  dayCount?: number;
  capNotifiedDay?: string;
  failuresInARow: number;
  lastAttempt?: TopUpAttempt;
  disabledReason?: string;
  version: number;
  updatedAt: string;
}
export const autoTopUpShape = itemShape<AutoTopUpItem>(itemKinds.autoTopUp, {
  agencyId: 'string',
  enabled: 'boolean',
  armed: 'boolean',
  crossings: 'number',
  failuresInARow: 'number',
  version: 'number',
});

export const autoTopUpKey = (agencyId: string): Key => ({ pk: accountPartition(agencyId), sk: 'AUTO_TOP_UP' });

export const getAutoTopUp = (agencyId: string) => getItem(autoTopUpKey(agencyId), autoTopUpShape);

export function blankAutoTopUp(agencyId: string, at: string): AutoTopUpItem {
  return {
    kind: itemKinds.autoTopUp,
    agencyId,
    enabled: false,
    threshold: null,
    credits: null,
    armed: false,
    crossings: 0,
    failuresInARow: 0,
    version: 0,
    updatedAt: at,
  };
}

/** The item as `next` says, if it is still at the version it was read at (0: it did not exist). */
export function putAutoTopUp(next: AutoTopUpItem, seenVersion: number): TransactItem {
  const { pk, sk } = autoTopUpKey(next.agencyId);
  return {
    Put: {
      TableName: table(),
      Item: stored({ ...next, version: seenVersion + 1 }, { pk, sk }),
      ConditionExpression: seenVersion === 0 ? 'attribute_not_exists(pk)' : '#version = :version',
      ...(seenVersion === 0
        ? {}
        : { ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':version': seenVersion } }),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/**
 * Low-balance alert levels and whether each balance has been told it is below: the agency's
 * levels (`poolBelow`, `walletBelow`, null = off) on one item, and per balance an "alerted"
 * item, present while the balance is below its level and the agency was emailed. The email is
 * written with it, conditioned on it being absent: one email per crossing, however many debits
 * see it; it is removed when the balance is seen at or above the level again.
 */
export interface AlertLevelsItem {
  kind: typeof itemKinds.lowBalanceAlerts;
  agencyId: string;
  poolBelow: number | null;
  walletBelow: number | null;
  updatedAt: string;
  /** Raised by each write, so a write (and its audit record's "before") is over the levels it read. Absent on older items. */
  version?: number;
}
export const alertLevelsShape = itemShape<AlertLevelsItem>(
  itemKinds.lowBalanceAlerts,
  { agencyId: 'string' },
  { poolBelow: 'number', walletBelow: 'number', version: 'number' },
);

export const alertLevelsKey = (agencyId: string): Key => ({ pk: accountPartition(agencyId), sk: 'LOW_BALANCE_ALERTS' });
export const getAlertLevels = (agencyId: string) => getItem(alertLevelsKey(agencyId), alertLevelsShape);

/** The next levels, only over those `seen` (none: only if there are none). */
export function putAlertLevels(next: AlertLevelsItem, seen: AlertLevelsItem | undefined): TransactItem {
  const condition = !seen
    ? 'attribute_not_exists(pk)'
    : seen.version === undefined
      ? 'attribute_not_exists(#version)'
      : '#version = :version';
  return {
    Put: {
      TableName: table(),
      Item: stored({ ...next, version: (seen?.version ?? 0) + 1 }, alertLevelsKey(next.agencyId)),
      ConditionExpression: condition,
      ...(seen ? { ExpressionAttributeNames: { '#version': 'version' } } : {}),
      ...(seen?.version !== undefined ? { ExpressionAttributeValues: { ':version': seen.version } } : {}),
    },
  };
}

/** A balance's alerted mark: the pool's in the agency's partition, a wallet's in its sub-account's. */
export const alertedKey = (accountId: string, balance: 'pool' | 'wallet'): Key => ({
  pk: accountPartition(accountId),
  sk: `LOW_BALANCE_ALERTED#${balance.toUpperCase()}`,
});

export interface AlertedItem {
  kind: typeof itemKinds.lowBalanceAlerted;
  accountId: string;
  balance: 'pool' | 'wallet';
  level: number;
  at: string;
  /** The balance item's version when the alert was judged (older marks have none). */
  version?: number;
  /** Its agency and the credits seen: writing the mark is the `pool.low`/`wallet.low` event (domain/events). */
  agencyId?: string;
  credits?: number;
}
export const alertedShape = itemShape<AlertedItem>(
  itemKinds.lowBalanceAlerted,
  { accountId: 'string', balance: ['pool', 'wallet'], level: 'number' },
  { version: 'number' },
);

/**
 * The mark, written with the email: absent before, or (a new crossing in one batch) the mark of
 * `replacing` version. It names its agency and the credits seen: its write is the
 * `pool.low`/`wallet.low` event (domain/events).
 */
export function markAlerted(
  accountId: string,
  balance: 'pool' | 'wallet',
  level: number,
  at: string,
  version: number,
  seen: { agencyId: string; credits: number },
  replacing?: number,
): TransactItem {
  const item: AlertedItem = { kind: itemKinds.lowBalanceAlerted, accountId, balance, level, at, version, ...seen };
  return {
    Put: {
      TableName: table(),
      Item: stored(item, alertedKey(accountId, balance)),
      ...(replacing === undefined
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : {
            ConditionExpression: '#version = :replacing',
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: { ':replacing': replacing },
          }),
    },
  };
}

export function clearAlerted(accountId: string, balance: 'pool' | 'wallet'): TransactItem {
  return { Delete: { TableName: table(), Key: alertedKey(accountId, balance) } };
}
