import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { nowIso } from '../../core/clock';
import { AppError, invalidField, unauthenticated } from '../../core/errors';
import { db, table } from '../../db/client';
import { foreignCursor } from '../../db/cursor';
import { type AccountItem, getAccount, listActiveSubAccounts } from '../../db/items/account';
import { findEmail, getUser, userKey } from '../../db/items/user';
import type { ChangePasswordBody, ListQuery, LoginBody } from '../accounts/schemas';
import { switcherEntry } from '../accounts/views';
import { burnPasswordCheck, hashPassword, verifyPassword } from './passwords';
import type { PrincipalOf } from './principal';
import { issueToken, SESSION_TTL_SECONDS } from './tokens';

const badLogin = () => unauthenticated('Email or password is incorrect');

/** Login answers the same 401 for an unknown email, a wrong password and a closed account. */
export async function logIn(body: LoginBody) {
  const guard = await findEmail(body.email.trim());
  const user = guard && (await getUser(guard.userId));
  if (!user) {
    await burnPasswordCheck(body.password);
    throw badLogin();
  }
  if (!(await verifyPassword(body.password, user.passwordHash))) throw badLogin();
  if (user.accountType === 'sub_account') {
    const account = await getAccount(user.accountId);
    if (account?.status !== 'active') throw badLogin();
  }
  const session = await issueToken(
    { userId: user.id, accountId: user.accountId, accountType: user.accountType, agencyId: user.agencyId },
    SESSION_TTL_SECONDS,
  );
  return {
    token: session.token,
    expiresAt: session.expiresAt.toISOString(),
    principal: { userId: user.id, accountId: user.accountId, accountType: user.accountType },
  };
}

/** Other sessions of the user stay valid until they expire (API.md); the hash check guards a race. */
export async function changePassword(
  principal: PrincipalOf<'agency_user' | 'sub_account_user'>,
  body: ChangePasswordBody,
): Promise<void> {
  const user = await getUser(principal.userId);
  if (!user) throw unauthenticated();
  if (!(await verifyPassword(body.currentPassword, user.passwordHash))) {
    throw new AppError('invalid_request', 'currentPassword: does not match', [
      { field: 'currentPassword', message: 'does not match' },
    ]);
  }
  if (body.newPassword === body.currentPassword) throw invalidField('newPassword', 'must differ from the current password');
  await db.send(
    new UpdateCommand({
      TableName: table(),
      Key: userKey(user.id),
      UpdateExpression: 'SET passwordHash = :next, passwordChangedAt = :now',
      ConditionExpression: 'passwordHash = :prev',
      ExpressionAttributeValues: { ':next': await hashPassword(body.newPassword), ':prev': user.passwordHash, ':now': nowIso() },
    }),
  );
}

/**
 * The account switcher, paged like every list: an agency user sees the agency first (on the
 * first page, beside up to `limit` sub-accounts), then its active sub-accounts page by page; a
 * sub-account user or an assist session only its own account.
 */
export async function describeMe(
  principal: PrincipalOf<'agency_user' | 'sub_account_user' | 'assist'>,
  ownAccount: AccountItem | undefined,
  page: ListQuery,
) {
  const base = {
    accountId: principal.accountId,
    accountType: principal.kind === 'agency_user' ? 'agency' : 'sub_account',
    agencyId: principal.agencyId,
    ...(principal.kind === 'assist'
      ? { userId: principal.actorUserId, actingAs: principal.accountId, actor: { userId: principal.actorUserId }, assist: true }
      : { userId: principal.userId }),
  };
  if (principal.kind !== 'agency_user') {
    // A one-entry list: no cursor was ever handed out for it.
    if (page.cursor) throw foreignCursor();
    const own = ownAccount ?? (await getAccount(principal.accountId));
    return { principal: base, accounts: own ? [switcherEntry(own)] : [], nextCursor: null };
  }
  const [agency, subs] = await Promise.all([
    page.cursor ? undefined : getAccount(principal.agencyId),
    // Closed sub-accounts leave the switcher; their history stays reachable by id.
    listActiveSubAccounts(principal.agencyId, page),
  ]);
  const accounts = [agency, ...subs.items].filter((a): a is AccountItem => !!a).map(switcherEntry);
  return { principal: base, accounts, nextCursor: subs.nextCursor };
}
