import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { forbidden } from '../../core/errors';
import type { AccountItem } from '../../db/accounts';
import { db, table } from '../../db/client';
import { itemKinds, keys } from '../../db/schema';
import { accountClosed } from '../accounts/errors';
import type { Principal } from './principal';
import { ASSIST_TTL_SECONDS, issueToken } from './tokens';

/**
 * Assist mode: a token that acts as the sub-account (RFC 8693 `sub`) with the agency user as
 * actor (`act.sub`). It lives at most an hour and is revoked by "Return to Agency".
 */
export async function startAssist(principal: Principal, sub: AccountItem) {
  if (principal.kind !== 'agency_user') throw forbidden();
  if (sub.status !== 'active') throw accountClosed();
  const { token, expiresAt } = await issueToken(
    {
      userId: sub.id,
      accountId: sub.id,
      accountType: 'sub_account',
      agencyId: principal.agencyId,
      actorUserId: principal.userId,
    },
    ASSIST_TTL_SECONDS,
  );
  return { token, expiresAt: expiresAt.toISOString(), subAccountId: sub.id };
}

export async function exitAssist(principal: Principal): Promise<void> {
  if (principal.kind !== 'assist') throw forbidden();
  await db.send(
    new PutCommand({
      TableName: table(),
      Item: {
        ...keys.revokedToken(principal.tokenId),
        kind: itemKinds.revokedToken,
        revokedAt: new Date().toISOString(),
        ttl: Math.ceil(principal.expiresAt.getTime() / 1000) + 60,
      },
    }),
  );
}
