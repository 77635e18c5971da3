import { table } from '../client';
import { itemShape } from '../item-shape';
import { getItem } from '../read';
import { itemKinds, type Key, keyPrefixes, stored } from '../schema';
import type { NamedItem } from '../transact';

/**
 * A single-use token sent by email (email verification, password reset), stored only as the
 * SHA-256 of the token: the item names the user and the account it acts on. It is spent by a
 * conditional delete in the same transaction that applies its effect, so it works once.
 */
export type OneTimePurpose = 'verify_email' | 'password_reset';

export interface OneTimeTokenItem {
  kind: typeof itemKinds.oneTimeToken;
  purpose: OneTimePurpose;
  userId: string;
  accountId: string;
  /** Checked on use (TTL deletion lags by up to days); `ttl` only cleans up. */
  expiresAtMs: number;
  ttl: number;
}
export const oneTimeTokenShape = itemShape<OneTimeTokenItem>(itemKinds.oneTimeToken, {
  purpose: 'string',
  userId: 'string',
  accountId: 'string',
  expiresAtMs: 'number',
});

export const oneTimeTokenKey = (hash: string): Key => ({ pk: `${keyPrefixes.oneTimeToken}${hash}`, sk: 'OTT' });
export const getOneTimeToken = (hash: string) => getItem(oneTimeTokenKey(hash), oneTimeTokenShape);

export function putOneTimeToken(hash: string, item: OneTimeTokenItem): NamedItem<'token'> {
  return {
    name: 'token',
    write: {
      Put: { TableName: table(), Item: stored(item, oneTimeTokenKey(hash)), ConditionExpression: 'attribute_not_exists(pk)' },
    },
  };
}

/** Spends the token: only if it is still there, for this purpose, and not expired at `nowMs`. */
export function spendOneTimeToken(
  hash: string,
  purpose: OneTimePurpose,
  nowMs: number,
  onUnusable: () => Error,
): NamedItem<'token'> {
  return {
    name: 'token',
    write: {
      Delete: {
        TableName: table(),
        Key: oneTimeTokenKey(hash),
        ConditionExpression: 'purpose = :purpose AND expiresAtMs > :now',
        ExpressionAttributeValues: { ':purpose': purpose, ':now': nowMs },
      },
    },
    onConditionFailed: onUnusable,
  };
}
