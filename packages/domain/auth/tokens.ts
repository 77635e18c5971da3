import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { nowMs } from '../../core/clock';
import { secret } from '../../core/env';
import { unauthenticated } from '../../core/errors';
import { newId } from '../../core/ids';

/**
 * Session and assist tokens: HS256 JWTs signed with the platform's token secret. Verification
 * pins the algorithm, issuer and audience, so `alg:none` or a token minted for another
 * audience is refused.
 */
const ISSUER = 'agency-accounts';
const AUDIENCE = 'agency-accounts-api';
const ALGORITHM = 'HS256';
export const SESSION_TTL_SECONDS = 12 * 60 * 60;
export const ASSIST_TTL_SECONDS = 60 * 60;

export type AccountType = 'agency' | 'sub_account';

export interface TokenClaims {
  /** The user the token speaks for (for an assist token: the sub-account being acted as). */
  userId: string;
  accountId: string;
  accountType: AccountType;
  agencyId: string;
  /** RFC 8693 actor: the agency user behind an assist token. */
  actorUserId?: string;
  jti: string;
  expiresAt: Date;
}

async function key(): Promise<Uint8Array> {
  return new TextEncoder().encode(await secret('TOKEN_SECRET'));
}

export async function issueToken(
  claims: Omit<TokenClaims, 'jti' | 'expiresAt'>,
  ttlSeconds: number,
): Promise<{ token: string; jti: string; expiresAt: Date }> {
  const jti = newId('session');
  const iat = Math.floor(nowMs() / 1000);
  const exp = iat + ttlSeconds;
  const token = await new SignJWT({
    acc: claims.accountId,
    typ: claims.accountType,
    agc: claims.agencyId,
    ...(claims.actorUserId ? { act: { sub: claims.actorUserId } } : {}),
  })
    .setProtectedHeader({ alg: ALGORITHM })
    .setSubject(claims.userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .setJti(jti)
    .sign(await key());
  return { token, jti, expiresAt: new Date(exp * 1000) };
}

export async function verifyToken(token: string): Promise<TokenClaims> {
  try {
    const { payload } = await jwtVerify(token, await key(), {
      algorithms: [ALGORITHM],
      issuer: ISSUER,
      audience: AUDIENCE,
      requiredClaims: ['sub', 'exp', 'jti', 'acc', 'typ', 'agc'],
      currentDate: new Date(nowMs()),
    });
    const { sub, acc, typ, agc, act, jti, exp } = payload as Record<string, unknown>;
    if (
      typeof sub !== 'string' ||
      typeof acc !== 'string' ||
      typeof agc !== 'string' ||
      (typ !== 'agency' && typ !== 'sub_account') ||
      typeof jti !== 'string' ||
      typeof exp !== 'number'
    ) {
      throw unauthenticated();
    }
    const actor = act && typeof act === 'object' ? (act as { sub?: unknown }).sub : undefined;
    return {
      userId: sub,
      accountId: acc,
      accountType: typ,
      agencyId: agc,
      actorUserId: typeof actor === 'string' ? actor : undefined,
      jti,
      expiresAt: new Date(exp * 1000),
    };
  } catch (err) {
    if (err instanceof joseErrors.JOSEError) throw unauthenticated();
    throw err;
  }
}
