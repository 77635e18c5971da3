import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { db, table } from '../client';
import { itemKinds, type Key, stored } from '../schema';

/** A revoked token, by its jti; the item expires (ttl) a minute after the token would have. */
export interface RevokedTokenItem {
  kind: typeof itemKinds.revokedToken;
  revokedAt: string;
  ttl: number;
}

export const revokedTokenKey = (jti: string): Key => ({ pk: `REVOKED#${jti}`, sk: 'REVOKED' });

export async function putRevokedToken(jti: string, revokedAt: Date, tokenExpiresAt: Date): Promise<void> {
  const item: RevokedTokenItem = {
    kind: itemKinds.revokedToken,
    revokedAt: revokedAt.toISOString(),
    ttl: Math.ceil(tokenExpiresAt.getTime() / 1000) + 60,
  };
  await db.send(new PutCommand({ TableName: table(), Item: stored(item, revokedTokenKey(jti)) }));
}
