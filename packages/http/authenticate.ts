import { createHash, timingSafeEqual } from 'node:crypto';
import { secret } from '../core/env';
import { unauthenticated } from '../core/errors';
import { type AccountItem, accountKey } from '../db/items/account';
import { findApiKey } from '../db/items/api-key';
import { revokedTokenKey } from '../db/items/revoked-token';
import { sessionVersionOf, type UserItem, userKey } from '../db/items/user';
import { getItems, itemId } from '../db/read';
import type { Key } from '../db/schema';
import { API_KEY_PREFIX, hashApiKey } from '../domain/auth/api-keys';
import type { Principal } from '../domain/auth/principal';
import { verifyToken } from '../domain/auth/tokens';

export interface Authenticated {
  principal: Principal;
  /** The caller's own account when authentication had to read it (sub-account callers). */
  ownAccount?: AccountItem;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Resolves the bearer credential to a principal, or throws 401. Cost: API keys one GetItem;
 * every session and assist token one BatchGet (user, revocation, and a sub-account's item), so
 * a password change, a logout, a returned assist token or a closed sub-account stops it at once.
 */
export async function authenticate(authorization: string | undefined): Promise<Authenticated> {
  // The auth scheme is case-insensitive (RFC 9110 §11.1): `bearer x` is the same credential.
  const match = /^Bearer ([\x21-\x7e]{1,4096})$/i.exec(authorization ?? '');
  const credential = match?.[1];
  if (!credential) throw unauthenticated();

  if (credential.startsWith(API_KEY_PREFIX)) {
    const item = await findApiKey(hashApiKey(credential));
    if (!item) throw unauthenticated();
    return { principal: { kind: 'api_key', apiKeyId: item.id, agencyId: item.agencyId, accountId: item.agencyId } };
  }

  if (timingSafeEqual(digest(credential), digest(await secret('PLATFORM_API_KEY')))) {
    return { principal: { kind: 'platform' } };
  }

  const claims = await verifyToken(credential);
  // Every session check in one BatchGet: the user behind the token (for assist: the agency
  // user acting), the token's revocation (logout, assist exit), and a sub-account's own item.
  const keys = {
    user: userKey(claims.actorUserId ?? claims.userId),
    revoked: revokedTokenKey(claims.jti),
    own: claims.accountType === 'sub_account' ? accountKey(claims.accountId) : undefined,
  };
  const found = await getItems(Object.values(keys).filter((k): k is Key => !!k));
  const read = <T>(key: Key | undefined) => (key ? (found.get(itemId(key)) as T | undefined) : undefined);

  // A password change (or reset, or re-issued credentials) raised the version: earlier tokens end.
  const user = read<UserItem>(keys.user);
  if (!user || sessionVersionOf(user) !== claims.sessionVersion || user.agencyId !== claims.agencyId) throw unauthenticated();
  if (read(keys.revoked)) throw unauthenticated();
  const account = read<AccountItem>(keys.own);
  if (keys.own && account?.status !== 'active') throw unauthenticated();

  if (claims.accountType === 'agency' && !claims.actorUserId) {
    return {
      principal: {
        kind: 'agency_user',
        userId: claims.userId,
        agencyId: claims.agencyId,
        accountId: claims.accountId,
        tokenId: claims.jti,
        sessionVersion: claims.sessionVersion,
      },
    };
  }
  const principal: Principal = claims.actorUserId
    ? {
        kind: 'assist',
        actorUserId: claims.actorUserId,
        agencyId: claims.agencyId,
        accountId: claims.accountId,
        tokenId: claims.jti,
        expiresAt: claims.expiresAt,
      }
    : {
        kind: 'sub_account_user',
        userId: claims.userId,
        agencyId: claims.agencyId,
        accountId: claims.accountId,
        tokenId: claims.jti,
        sessionVersion: claims.sessionVersion,
      };
  return { principal, ownAccount: account };
}
