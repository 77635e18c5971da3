import { createHash } from 'node:crypto';
import { nowMs } from '#core/clock';
import { fetchSecretStage, optionalEnv, requireEnv } from '#core/env';

/**
 * The keys that sign and verify session tokens. Deployed, the token secret rotates in Secrets
 * Manager: tokens are signed with AWSCURRENT and verified with AWSCURRENT or AWSPREVIOUS, so a
 * rotation logs nobody out (sessions last 12 h, rotations are weeks apart). Locally:
 * TOKEN_SECRET and, to try a rotation, TOKEN_SECRET_PREVIOUS.
 *
 * A token names its key (`kid`): a digest of the secret, stable across containers and
 * revealing nothing usable about it. A container caches the keys for five minutes, and reloads
 * early (at most every 30 s) when a token names a key it does not know: a fresh container
 * may already sign with a secret rotated after this one loaded.
 */
export interface SigningKey {
  kid: string;
  key: Uint8Array;
}
export interface KeyRing {
  current: SigningKey;
  /** Every key a token may be signed with, by kid: the current one and the previous one. */
  accepted: Map<string, Uint8Array>;
}

const MAX_AGE_MS = 5 * 60_000;
const MIN_RELOAD_MS = 30_000;

export const kidOf = (secret: string): string => createHash('sha256').update(`kid:${secret}`).digest('base64url').slice(0, 16);
const signingKey = (secret: string): SigningKey => ({ kid: kidOf(secret), key: new TextEncoder().encode(secret) });

let loaded: { ring: Promise<KeyRing>; at: number } | undefined;

export function keyRing(): Promise<KeyRing> {
  if (!loaded || nowMs() - loaded.at > MAX_AGE_MS) reload();
  return (loaded as NonNullable<typeof loaded>).ring;
}

/** The key a token names; reloads once (rate-limited) before giving up on an unknown kid. */
export async function verificationKey(kid: string | undefined): Promise<Uint8Array | undefined> {
  if (!kid) return undefined;
  const known = (await keyRing()).accepted.get(kid);
  if (known || !loaded || nowMs() - loaded.at < MIN_RELOAD_MS) return known;
  reload();
  return (await keyRing()).accepted.get(kid);
}

/** Test seam: the next use reads the secrets again (deployed code never needs it). */
export function forgetSigningKeys(): void {
  loaded = undefined;
}

function reload(): void {
  const ring = load();
  ring.catch(() => {
    if (loaded?.ring === ring) loaded = undefined;
  });
  loaded = { ring, at: nowMs() };
}

async function load(): Promise<KeyRing> {
  const arn = optionalEnv('TOKEN_SECRET_ARN');
  const [current, previous] = arn
    ? await Promise.all([fetchSecretStage(arn, 'AWSCURRENT'), fetchSecretStage(arn, 'AWSPREVIOUS')])
    : [requireEnv('TOKEN_SECRET'), optionalEnv('TOKEN_SECRET_PREVIOUS')];
  if (!current) throw new Error('The token secret has no current value');
  const keys = [signingKey(current), ...(previous ? [signingKey(previous)] : [])];
  return { current: keys[0] as SigningKey, accepted: new Map(keys.map((k) => [k.kid, k.key])) };
}
