import { AppError } from '../../core/errors';
import { newId } from '../../core/ids';
import type { AccountItem, UserItem } from '../../db/accounts';
import { table } from '../../db/client';
import { itemKinds, keys } from '../../db/schema';
import { ConditionsFailed, type TransactItem, transact } from '../../db/transact';
import { hashPassword } from '../auth/passwords';
import { issueToken, SESSION_TTL_SECONDS } from '../auth/tokens';
import { planFeatures } from '../features';
import type { SignupBody } from './schemas';
import { agencyView } from './views';

/** The user item plus its email guard: both or neither, so an email is never taken twice. */
export function putUserItems(user: UserItem): TransactItem[] {
  return [
    {
      Put: {
        TableName: table(),
        Item: { ...keys.user(user.id), ...user },
      },
    },
    {
      Put: {
        TableName: table(),
        Item: { ...keys.email(user.email), kind: itemKinds.email, userId: user.id },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
  ];
}

/** Index of the email guard within `putUserItems`, for telling `email_taken` apart. */
export const EMAIL_GUARD_OFFSET = 1;

export async function signUpAgency(body: SignupBody) {
  const now = new Date().toISOString();
  const agencyId = newId('agency');
  const plan = body.plan ?? 'starter';
  const agency: AccountItem = {
    kind: itemKinds.account,
    id: agencyId,
    type: 'agency',
    agencyId,
    name: body.agencyName,
    email: body.email.toLowerCase(),
    plan,
    features: [...planFeatures[plan]],
    status: 'active',
    createdAt: now,
    updatedAt: now,
  };
  const user: UserItem = {
    kind: itemKinds.user,
    id: newId('user'),
    email: body.email.toLowerCase(),
    name: body.name,
    passwordHash: await hashPassword(body.password),
    accountId: agencyId,
    accountType: 'agency',
    agencyId,
    createdAt: now,
  };
  try {
    await transact([
      {
        Put: {
          TableName: table(),
          Item: { ...keys.account(agencyId), ...agency },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      ...putUserItems(user),
    ]);
  } catch (err) {
    if (err instanceof ConditionsFailed && err.failed(1 + EMAIL_GUARD_OFFSET)) throw emailTaken();
    throw err;
  }
  const session = await issueToken(
    { userId: user.id, accountId: agencyId, accountType: 'agency', agencyId },
    SESSION_TTL_SECONDS,
  );
  return {
    agency: agencyView(agency),
    user: { id: user.id, email: user.email, name: user.name },
    token: session.token,
    expiresAt: session.expiresAt.toISOString(),
  };
}

export const emailTaken = () =>
  new AppError('email_taken', 'email: an account with this email already exists', [
    { field: 'email', message: 'already registered' },
  ]);
