import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Stripe-looking ids: a type prefix and random base62 (`acct_1Q…`, `cs_test_a1…`, `evt_1Q…`). */
export function newId(prefix: string, length = 24): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  for (const b of bytes) {
    if (b >= 248) continue; // 248 = 62 × 4: keeps the draw uniform
    out += ALPHABET[b % 62];
    if (out.length === length) break;
  }
  return out.length === length ? `${prefix}_${out}` : newId(prefix, length);
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);
