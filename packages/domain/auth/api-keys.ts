import { createHash, randomBytes } from 'node:crypto';

/** API keys: `ak_` + 32 random bytes; only the SHA-256 is stored (the key has full entropy, so no salt is needed). */
export const API_KEY_PREFIX = 'ak_';

export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('base64url');
}
