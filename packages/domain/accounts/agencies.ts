import { now as clockNow } from '../../core/clock';
import { AppError } from '../../core/errors';
import { newId } from '../../core/ids';
import { type AccountItem, putAccount } from '../../db/items/account';
import { putUser, type UserItem } from '../../db/items/user';
import { itemKinds } from '../../db/schema';
import { transact } from '../../db/transact';
import { hashPassword } from '../auth/passwords';
import { issueToken, SESSION_TTL_SECONDS } from '../auth/tokens';
import { planFeatures } from '../features';
import type { SignupBody } from './schemas';
import { agencyView } from './views';

export async function signUpAgency(body: SignupBody) {
  const now = clockNow().toISOString();
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
  await transact([{ name: 'agency', write: putAccount(agency) }, ...putUser(user, emailTaken)]);
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
