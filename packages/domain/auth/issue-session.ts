import { sessionVersionOf, type UserItem } from '#db/items/user';
import { issueToken, SESSION_TTL_SECONDS } from './tokens';

/** A session token for a user, under the user's current session version. */
export async function issueSession(
  user: Pick<UserItem, 'id' | 'accountId' | 'accountType' | 'agencyId' | 'sessionVersion'>,
): Promise<{ token: string; expiresAt: string }> {
  const session = await issueToken(
    {
      userId: user.id,
      accountId: user.accountId,
      accountType: user.accountType,
      agencyId: user.agencyId,
      sessionVersion: sessionVersionOf(user),
    },
    SESSION_TTL_SECONDS,
  );
  return { token: session.token, expiresAt: session.expiresAt.toISOString() };
}
