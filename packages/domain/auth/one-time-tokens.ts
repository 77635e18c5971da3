import { createHash, randomBytes } from 'node:crypto';
import { nowMs } from '#core/clock';
import { invalidField } from '#core/errors';
import {
  getOneTimeToken,
  type OneTimePurpose,
  type OneTimeTokenItem,
  putOneTimeToken,
  spendOneTimeToken,
} from '#db/items/one-time-token';
import { itemKinds } from '#db/schema';
import type { NamedItem } from '#db/transact';

/** Email verification links live a day, password reset links an hour. */
export const oneTimeLifetimeMs: Record<OneTimePurpose, number> = {
  verify_email: 24 * 3600_000,
  password_reset: 3600_000,
};

const hashOf = (token: string) => createHash('sha256').update(token).digest('base64url');
const unusable = () => invalidField('token', 'unknown, already used or expired');

/** A new token (32 random bytes) and the write that stores its hash. The token itself goes only into the (sealed) email. */
export function newOneTimeToken(
  purpose: OneTimePurpose,
  userId: string,
  accountId: string,
): { token: string; write: NamedItem<'token'> } {
  const token = randomBytes(32).toString('base64url');
  const expiresAtMs = nowMs() + oneTimeLifetimeMs[purpose];
  const item: OneTimeTokenItem = {
    kind: itemKinds.oneTimeToken,
    purpose,
    userId,
    accountId,
    expiresAtMs,
    ttl: Math.ceil(expiresAtMs / 1000) + 3600,
  };
  return { token, write: putOneTimeToken(hashOf(token), item) };
}

/**
 * The token's item, if usable now, and the write that spends it (to put in the transaction
 * that applies its effect: a second use, racing or later, fails that write → 400).
 */
export async function usableToken(
  token: string,
  purpose: OneTimePurpose,
): Promise<{ item: OneTimeTokenItem; spend: NamedItem<'token'> }> {
  const hash = hashOf(token);
  const item = await getOneTimeToken(hash);
  const now = nowMs();
  if (!item || item.purpose !== purpose || item.expiresAtMs <= now) throw unusable();
  return { item, spend: spendOneTimeToken(hash, purpose, now, unusable) };
}
