import { table } from '../client';
import { itemShape } from '../item-shape';
import { getItem } from '../read';
import { itemKinds, type Key, keyPrefixes, stored } from '../schema';
import type { NamedItem } from '../transact';

/** A person who logs in: an agency user or a sub-account's client user. */
export interface UserItem {
  kind: typeof itemKinds.user;
  id: string;
  email: string;
  name?: string;
  passwordHash: string;
  accountId: string;
  accountType: 'agency' | 'sub_account';
  agencyId: string;
  createdAt: string;
  passwordChangedAt?: string;
  /**
   * Raised by every password change, reset or re-issue; tokens carry the version they were
   * issued under, so raising it ends every earlier session at once (absent = 0).
   */
  sessionVersion?: number;
}
export const userShape = itemShape<UserItem>(
  itemKinds.user,
  {
    id: 'string',
    email: 'string',
    passwordHash: 'string',
    accountId: 'string',
    accountType: ['agency', 'sub_account'],
    agencyId: 'string',
  },
  { sessionVersion: 'number' },
);

export const sessionVersionOf = (user: Pick<UserItem, 'sessionVersion'>): number => user.sessionVersion ?? 0;

/** The email guard: one item per lower-cased email, so an email is never taken twice; login finds the user by it. */
export interface EmailItem {
  kind: typeof itemKinds.email;
  userId: string;
}
export const emailShape = itemShape<EmailItem>(itemKinds.email, { userId: 'string' });

export const userKey = (userId: string): Key => ({ pk: `${keyPrefixes.user}${userId}`, sk: 'USER' });
export const emailKey = (email: string): Key => ({ pk: `${keyPrefixes.email}${email.toLowerCase()}`, sk: 'EMAIL' });

export const getUser = (userId: string) => getItem(userKey(userId), userShape);
export const findEmail = (email: string) => getItem(emailKey(email), emailShape);

/** The user and its email guard: both or neither. A taken email fails the guard, which means `onEmailTaken`. */
export function putUser(user: UserItem, onEmailTaken: () => Error): NamedItem<'user' | 'emailGuard'>[] {
  const guard: EmailItem = { kind: itemKinds.email, userId: user.id };
  return [
    { name: 'user', write: { Put: { TableName: table(), Item: stored(user, userKey(user.id)) } } },
    {
      name: 'emailGuard',
      write: {
        Put: { TableName: table(), Item: stored(guard, emailKey(user.email)), ConditionExpression: 'attribute_not_exists(pk)' },
      },
      onConditionFailed: onEmailTaken,
    },
  ];
}

/**
 * A new password hash, and the end of every earlier session (the version goes up by one).
 * With `expectedHash`, only if the password is still the one the caller checked: of two
 * changes racing from the same old password, one wins and `onStale` names the other's refusal.
 */
export function setPassword(
  userId: string,
  passwordHash: string,
  at: string,
  expected?: { hash: string; onStale: () => Error },
): NamedItem<'user'> {
  return {
    name: 'user',
    write: {
      Update: {
        TableName: table(),
        Key: userKey(userId),
        UpdateExpression: 'SET passwordHash = :next, passwordChangedAt = :at ADD sessionVersion :one',
        ConditionExpression: expected ? 'passwordHash = :prev' : 'attribute_exists(pk)',
        ExpressionAttributeValues: {
          ':next': passwordHash,
          ':at': at,
          ':one': 1,
          ...(expected ? { ':prev': expected.hash } : {}),
        },
      },
    },
    onConditionFailed: expected?.onStale,
  };
}

/** A stored password no password matches (verifyPassword refuses anything but `scrypt$…`). */
export const NO_PASSWORD = 'none';

/** The user can no longer log in until new credentials are set, and every earlier session ends. */
export function withdrawPassword(userId: string, at: string): NamedItem<'user'> {
  return {
    name: 'user',
    write: {
      Update: {
        TableName: table(),
        Key: userKey(userId),
        UpdateExpression: 'SET passwordHash = :none, passwordChangedAt = :at ADD sessionVersion :one',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':none': NO_PASSWORD, ':at': at, ':one': 1 },
      },
    },
  };
}
