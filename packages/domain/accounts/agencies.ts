import { now as clockNow } from '../../core/clock';
import { AppError, notFound } from '../../core/errors';
import { newId } from '../../core/ids';
import { type AccountItem, getAccount, putAccount } from '../../db/items/account';
import { putUser, type UserItem } from '../../db/items/user';
import { itemKinds } from '../../db/schema';
import { transact } from '../../db/transact';
import { issueSession } from '../auth/issue-session';
import { checkNewPassword } from '../auth/password-policy';
import { hashPassword } from '../auth/passwords';
import { planFeatures } from '../features';
import { verificationWrites } from './email-verification';
import type { SignupBody } from './schemas';
import { agencyView } from './views';

export async function signUpAgency(body: SignupBody) {
  checkNewPassword(body.password, 'password', [body.email, body.name, body.agencyName]);
  const at = clockNow();
  const now = at.toISOString();
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
    emailVerified: false,
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
  // The owner's verification email goes out iff the agency is created.
  const verification = await verificationWrites(
    { agencyId, agencyName: agency.name, userId: user.id, userName: body.name, email: user.email },
    at,
  );
  await transact([{ name: 'agency', write: putAccount(agency) }, ...putUser(user, emailTaken), ...verification]);
  const session = await issueSession(user);
  return {
    agency: agencyView(agency),
    user: { id: user.id, email: user.email, name: user.name },
    ...session,
  };
}

export const emailTaken = () =>
  new AppError('email_taken', 'email: an account with this email already exists', [
    { field: 'email', message: 'already registered' },
  ]);

/** The agency item, or 404. */
export async function requireAgency(agencyId: string): Promise<AccountItem> {
  const agency = await getAccount(agencyId);
  if (agency?.type !== 'agency') throw notFound('Agency');
  return agency;
}
