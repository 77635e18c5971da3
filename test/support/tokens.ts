import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { kidOf } from '#domain/auth/signing-keys';

/**
 * Hand-made JWTs for authentication tests. Claim names mirror packages/domain/auth/tokens.ts
 * (sub, acc, typ, agc, sv, act.sub, sid, jti, iss, aud, exp; header kid); each forgery differs from
 * a real session token in exactly one way (expired, unsigned, wrong key, wrong audience…).
 */
export const TOKEN_ISSUER = 'agency-accounts';
export const TOKEN_AUDIENCE = 'agency-accounts-api';

export interface ForgeClaims {
  userId: string;
  accountId: string;
  accountType: 'agency' | 'sub_account';
  agencyId: string;
  actorUserId?: string;
  /** Assist: the session that started it (`sid`). */
  parentSessionId?: string;
  /** The session version; default 0 (a user who never changed the password). */
  sessionVersion?: number;
}

export interface ForgeOptions {
  /** Defaults to the stack's TOKEN_SECRET (this worker's env points at the stack). */
  secret?: string;
  /** Seconds from now; negative = already expired. Default one hour. */
  expiresIn?: number;
  issuer?: string;
  audience?: string;
  alg?: 'HS256' | 'HS384' | 'HS512';
  /** Drop one of the required claims. */
  omit?: 'sub' | 'acc' | 'typ' | 'agc' | 'jti' | 'exp' | 'sv';
  /** The header's key id; default: the one derived from the secret, as the service does. */
  kid?: string | null;
}

function payloadOf(c: ForgeClaims, o: ForgeOptions): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    sub: c.userId,
    acc: c.accountId,
    typ: c.accountType,
    agc: c.agencyId,
    sv: c.sessionVersion ?? 0,
    ...(c.actorUserId ? { act: { sub: c.actorUserId } } : {}),
    ...(c.parentSessionId ? { sid: c.parentSessionId } : {}),
    jti: `ses_forged${randomBytes(8).toString('hex')}`,
    iss: o.issuer ?? TOKEN_ISSUER,
    aud: o.audience ?? TOKEN_AUDIENCE,
    iat: now - 60,
    exp: now + (o.expiresIn ?? 3600),
  };
  if (o.omit) delete payload[o.omit];
  return payload;
}

export async function forgeToken(claims: ForgeClaims, opts: ForgeOptions = {}): Promise<string> {
  const secret = opts.secret ?? process.env.TOKEN_SECRET;
  if (!secret) throw new Error('TOKEN_SECRET is not set: import test/support/stack first');
  return new SignJWT(payloadOf(claims, opts))
    .setProtectedHeader({
      alg: opts.alg ?? 'HS256',
      typ: 'JWT',
      ...(opts.kid === null ? {} : { kid: opts.kid ?? kidOf(secret) }),
    })
    .sign(new TextEncoder().encode(secret));
}

/** An unsecured JWT (`alg: none`, empty signature) with otherwise valid claims. */
export function unsignedToken(claims: ForgeClaims, opts: ForgeOptions = {}): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payloadOf(claims, opts))}.`;
}

export const otherSecret = () => randomBytes(48).toString('base64url');
