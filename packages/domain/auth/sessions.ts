import { now, nowIso, nowMs } from '#core/clock';
import { AppError, invalidField, unauthenticated } from '#core/errors';
import { foreignCursor } from '#db/cursor';
import { type AccountItem, type AgencyItem, getAccount, listActiveSwitcherEntries, type SwitcherFields } from '#db/items/account';
import { putRevokedToken } from '#db/items/revoked-token';
import { getUser, sessionVersionOf, setPassword } from '#db/items/user';
import { transact } from '#db/transact';
import type { ChangePasswordBody, ListQuery } from '../accounts/schemas';
import { switcherEntry } from '../accounts/views';
import { audited } from '../audit/record';
import { issueSession } from './issue-session';
import { checkNewPassword } from './password-policy';
import { hashPassword, verifyPassword } from './passwords';
import type { PrincipalOf } from './principal';
import { SESSION_TTL_SECONDS } from './tokens';

/**
 * A new password, and the end of every other session of the user: the answer carries a new
 * token under the raised session version, so only the caller stays logged in. Two changes
 * racing from the same session: the write is conditional on the hash this one checked, so one
 * wins and the other is refused like any session the winner ended (401), never a 500.
 */
export async function changePassword(
  principal: PrincipalOf<'agency_user' | 'sub_account_user'>,
  body: ChangePasswordBody,
): Promise<{ token: string; expiresAt: string }> {
  const user = await getUser(principal.userId);
  if (!user) throw unauthenticated();
  if (!(await verifyPassword(body.currentPassword, user.passwordHash))) {
    throw new AppError('invalid_request', 'currentPassword: does not match', [
      { field: 'currentPassword', message: 'does not match' },
    ]);
  }
  if (body.newPassword === body.currentPassword) throw invalidField('newPassword', 'must differ from the current password');
  await checkNewPassword(body.newPassword, 'newPassword', [user.email, user.name]);
  const endedMeanwhile = () => unauthenticated('The password was changed meanwhile; this session has ended');
  await transact([
    setPassword(user.id, await hashPassword(body.newPassword), nowIso(), { hash: user.passwordHash, onStale: endedMeanwhile }),
    // That it happened, never the password.
    audited({ agencyId: principal.agencyId, action: 'user.password_changed', target: { type: 'user', id: user.id } }),
  ]);
  // The condition held, so nothing raised the version since this read: it is now one more.
  return issueSession({ ...user, sessionVersion: sessionVersionOf(user) + 1 });
}

/**
 * The account switcher, paged like every list: an agency user sees the agency first (on the
 * first page, beside up to `limit` sub-accounts), then its active sub-accounts page by page; a
 * sub-account user or an assist session only its own account.
 */
export async function describeMe(
  principal: PrincipalOf<'agency_user' | 'sub_account_user' | 'assist'>,
  ownAccount: AccountItem | undefined,
  agency: AgencyItem,
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
  // Closed sub-accounts leave the switcher; their history stays reachable by id. Only the
  // attributes the switcher shows travel (a whole account item is ~7 times larger).
  const subs = await listActiveSwitcherEntries(principal.agencyId, page);
  // The agency as authentication read it (active): no second read.
  const accounts = [page.cursor ? undefined : agency, ...subs.items].filter((a): a is SwitcherFields => !!a).map(switcherEntry);
  // What the console offers follows the plan (features) and the owner's confirmation (banner).
  const plan = { plan: agency.plan ?? 'starter', features: agency.features, emailVerified: agency.emailVerified === true };
  return { principal: base, accounts, agency: plan, nextCursor: subs.nextCursor };
}

/**
 * Logout: this token (session or assist) is refused from now on, and so is every assist token
 * the session started (they name it: authenticate.ts reads its revocation too); the user's other
 * sessions go on. The revocation outlives them: each was started before now and lives ≤ 1 h.
 */
export async function logOut(principal: PrincipalOf<'agency_user' | 'sub_account_user' | 'assist'>): Promise<void> {
  const expiresAt = principal.kind === 'assist' ? principal.expiresAt : new Date(nowMs() + SESSION_TTL_SECONDS * 1000);
  const user = principal.kind === 'assist' ? principal.actorUserId : principal.userId;
  await transact([
    putRevokedToken(principal.tokenId, now(), expiresAt),
    audited({
      agencyId: principal.agencyId,
      action: 'user.logged_out',
      target: { type: 'user', id: user },
      changes: [{ field: 'accountId', before: principal.accountId, after: null }],
    }),
  ]);
}
