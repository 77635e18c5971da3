import { table } from '../client';
import { itemKinds, type Key, keyPrefixes, stored } from '../schema';
import type { NamedItem } from '../transact';

/** A revoked token, by its jti; the item expires (ttl) a minute after the token would have. */
export interface RevokedTokenItem {
  kind: typeof itemKinds.revokedToken;
  revokedAt: string;
  ttl: number;
}

export const revokedTokenKey = (jti: string): Key => ({ pk: `${keyPrefixes.revokedToken}${jti}`, sk: 'REVOKED' });

/** The revocation, as an item of the transaction that records it (logout, assist exit). */
export function putRevokedToken(jti: string, revokedAt: Date, tokenExpiresAt: Date): NamedItem<'revocation'> {
  const item: RevokedTokenItem = {
    kind: itemKinds.revokedToken,
    revokedAt: revokedAt.toISOString(),
    ttl: Math.ceil(tokenExpiresAt.getTime() / 1000) + 60,
  };
  return { name: 'revocation', write: { Put: { TableName: table(), Item: stored(item, revokedTokenKey(jti)) } } };
}
