import { table } from '../client';
import { getItem } from '../read';
import { itemKinds, type Key, stored } from '../schema';
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
}

/** The email guard: one item per lower-cased email, so an email is never taken twice; login finds the user by it. */
export interface EmailItem {
  kind: typeof itemKinds.email;
  userId: string;
}

export const userKey = (userId: string): Key => ({ pk: `USER#${userId}`, sk: 'USER' });
export const emailKey = (email: string): Key => ({ pk: `EMAIL#${email.toLowerCase()}`, sk: 'EMAIL' });

export const getUser = (userId: string) => getItem<UserItem>(userKey(userId));
export const findEmail = (email: string) => getItem<EmailItem>(emailKey(email));

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
