import { now } from '#core/clock';
import type { SubAccountItem } from '#db/items/account';
import { putRevokedToken } from '#db/items/revoked-token';
import { transact } from '#db/transact';
import { accountClosed } from '../accounts/errors';
import { audited } from '../audit/record';
import type { PrincipalOf } from './principal';
import { ASSIST_TTL_SECONDS, issueToken } from './tokens';

/**
 * Assist mode: a token that acts as the sub-account (RFC 8693 `sub`) with the agency user as
 * actor (`act.sub`). It lives at most an hour and is revoked by "Return to Agency", by the
 * logout of the session that started it (`sid`), and by the agency user's password change.
 */
export async function startAssist(principal: PrincipalOf<'agency_user'>, sub: SubAccountItem) {
  if (sub.status !== 'active') throw accountClosed();
  const { token, expiresAt } = await issueToken(
    {
      userId: sub.id,
      accountId: sub.id,
      accountType: 'sub_account',
      agencyId: principal.agencyId,
      actorUserId: principal.userId,
      // The agency user's password change ends its assist sessions too.
      sessionVersion: principal.sessionVersion,
      // Its logout ends them: authentication reads this session's revocation beside the token's own.
      parentSessionId: principal.tokenId,
    },
    ASSIST_TTL_SECONDS,
  );
  // The agency user starts helping the sub-account: recorded, never the token.
  await transact([
    audited({
      agencyId: principal.agencyId,
      action: 'assist.started',
      target: { type: 'sub_account', id: sub.id },
      changes: [{ field: 'expiresAt', before: null, after: expiresAt.toISOString() }],
    }),
  ]);
  return { token, expiresAt: expiresAt.toISOString(), subAccountId: sub.id };
}

export async function exitAssist(principal: PrincipalOf<'assist'>): Promise<void> {
  await transact([
    putRevokedToken(principal.tokenId, now(), principal.expiresAt),
    audited({ agencyId: principal.agencyId, action: 'assist.ended', target: { type: 'sub_account', id: principal.accountId } }),
  ]);
}
