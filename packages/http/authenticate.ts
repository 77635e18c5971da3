import { createHash, timingSafeEqual } from 'node:crypto';
import { secret } from '../core/env';
import { unauthenticated } from '../core/errors';
import { type AccountItem, accountKey } from '../db/items/account';
import { findApiKey } from '../db/items/api-key';
import { revokedTokenKey } from '../db/items/revoked-token';
import { getItems, itemId } from '../db/read';
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
 * Resolves the bearer credential to a principal, or throws 401. Cost: agency session tokens
 * need no read; API keys one GetItem; sub-account and assist tokens one BatchGet (account
 * status + assist revocation), so a closed sub-account or a returned assist token stops at once.
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
  if (claims.accountType === 'agency' && !claims.actorUserId) {
    return {
      principal: {
        kind: 'agency_user',
        userId: claims.userId,
        agencyId: claims.agencyId,
        accountId: claims.accountId,
        tokenId: claims.jti,
      },
    };
  }

  const ownKey = accountKey(claims.accountId);
  const revokedKey = revokedTokenKey(claims.jti);
  const found = await getItems(claims.actorUserId ? [ownKey, revokedKey] : [ownKey]);
  const account = found.get(itemId(ownKey)) as AccountItem | undefined;
  if (account?.status !== 'active' || found.has(itemId(revokedKey))) throw unauthenticated();

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
      };
  return { principal, ownAccount: account };
}
