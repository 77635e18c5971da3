import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { nowMs } from '#core/clock';
import { unauthenticated } from '#core/errors';
import { newId } from '#core/ids';
import { keyRing, verificationKey } from './signing-keys';

/**
 * Session and assist tokens: HS256 JWTs signed with the platform's token secret. Verification
 * pins the algorithm, issuer and audience, so `alg:none` or a token minted for another
 * audience is refused. The header names the signing key (`kid`, see signing-keys.ts); `sv`
 * is the user's session version when the token was issued: a password change raises it,
 * which ends every earlier session (authenticate.ts compares it with the user item). An
 * assist token also names the session that started it (`sid`, that session's `jti`): the
 * session's logout ends it too.
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
  /** The session version of the user the token speaks for (for assist: of the actor). */
  sessionVersion: number;
  /** Assist only (required there): the `jti` of the agency user's session that started it. */
  parentSessionId?: string;
  jti: string;
  expiresAt: Date;
}

export async function issueToken(
  claims: Omit<TokenClaims, 'jti' | 'expiresAt'>,
  ttlSeconds: number,
): Promise<{ token: string; jti: string; expiresAt: Date }> {
  const jti = newId('session');
  const iat = Math.floor(nowMs() / 1000);
  const exp = iat + ttlSeconds;
  const { current } = await keyRing();
  const token = await new SignJWT({
    acc: claims.accountId,
    typ: claims.accountType,
    agc: claims.agencyId,
    sv: claims.sessionVersion,
    ...(claims.actorUserId ? { act: { sub: claims.actorUserId } } : {}),
    ...(claims.parentSessionId ? { sid: claims.parentSessionId } : {}),
  })
    .setProtectedHeader({ alg: ALGORITHM, kid: current.kid })
    .setSubject(claims.userId)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .setJti(jti)
    .sign(current.key);
  return { token, jti, expiresAt: new Date(exp * 1000) };
}

export async function verifyToken(token: string): Promise<TokenClaims> {
  try {
    const { payload } = await jwtVerify(
      token,
      async ({ kid }) => {
        const key = await verificationKey(kid);
        if (!key) throw new joseErrors.JWSSignatureVerificationFailed('unknown signing key');
        return key;
      },
      {
        algorithms: [ALGORITHM],
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ['sub', 'exp', 'jti', 'acc', 'typ', 'agc', 'sv'],
        currentDate: new Date(nowMs()),
      },
    );
    const { sub, acc, typ, agc, act, jti, exp, sv, sid } = payload as Record<string, unknown>;
    const actor = act && typeof act === 'object' ? (act as { sub?: unknown }).sub : undefined;
    if (
      typeof sub !== 'string' ||
      !Number.isSafeInteger(sv) ||
      (sv as number) < 0 ||
      typeof acc !== 'string' ||
      typeof agc !== 'string' ||
      (typ !== 'agency' && typ !== 'sub_account') ||
      typeof jti !== 'string' ||
      typeof exp !== 'number' ||
      // An assist token without its session could not be ended by that session's logout.
      (typeof actor === 'string' && typeof sid !== 'string')
    ) {
      throw unauthenticated();
    }
    return {
      userId: sub,
      accountId: acc,
      accountType: typ,
      agencyId: agc,
      actorUserId: typeof actor === 'string' ? actor : undefined,
      sessionVersion: sv as number,
      parentSessionId: typeof actor === 'string' ? (sid as string) : undefined,
      jti,
      expiresAt: new Date(exp * 1000),
    };
  } catch (err) {
    if (err instanceof joseErrors.JOSEError) throw unauthenticated();
    throw err;
  }
}
