import { now as clockNow } from '#core/clock';
import { AppError } from '#core/errors';
import { seal } from '#crypto/secret-box';
import { getAccount, markEmailVerified } from '#db/items/account';
import { getUser } from '#db/items/user';
import type { NamedItem } from '#db/transact';
import { transact } from '#db/transact';
import { audited } from '../audit/record';
import { newOneTimeToken, usableToken } from '../auth/one-time-tokens';
import type { PrincipalOf } from '../auth/principal';
import { limits, takeAttempt } from '../auth/throttle';
import { newOutboxId, outboxWrite } from '../outbox';

/**
 * The agency owner proves the sign-up email is theirs before the platform emails anyone else
 * on the agency's behalf (sub-account credentials): a single-use link, valid 24 hours, sent
 * through the outbox with the token sealed, stored only as a hash.
 */
export const emailNotVerified = () =>
  new AppError(
    'email_not_verified',
    "Confirm the agency's email first (follow the link sent at sign-up, or POST /v1/auth/verify-email/resend)",
  );

interface Owner {
  agencyId: string;
  agencyName: string;
  userId: string;
  userName: string;
  email: string;
}

/** The token and its email, to commit with the change that asks for them (sign-up, resend). */
export async function verificationWrites(owner: Owner, now: Date): Promise<NamedItem[]> {
  const { token, write } = newOneTimeToken('verify_email', owner.userId, owner.agencyId);
  const outboxId = newOutboxId();
  const event = {
    type: 'agency.verify_email' as const,
    agencyId: owner.agencyId,
    agencyName: owner.agencyName,
    recipientName: owner.userName,
    to: owner.email,
    sealedToken: await seal(token, outboxId),
  };
  return [write, outboxWrite(outboxId, event, now)];
}

/** Spends the token and marks the agency verified, in one transaction; a used, unknown or expired token → 400. */
export async function verifyEmail(token: string): Promise<void> {
  const { item, spend } = await usableToken(token, 'verify_email');
  // By the owner the token was sent to (the request names no principal); never the token.
  const audit = audited({
    agencyId: item.accountId,
    action: 'agency.email_verified',
    target: { type: 'agency', id: item.accountId },
    actor: { type: 'user', userId: item.userId },
  });
  await transact([spend, markEmailVerified(item.accountId, clockNow().toISOString()), audit]);
}

/** Sends a new link (the earlier ones stay valid until used or expired); throttled per agency; nothing when already verified. */
export async function resendVerification(principal: PrincipalOf<'agency_user'>): Promise<void> {
  await takeAttempt(limits.verificationResend, principal.agencyId);
  const [agency, user] = await Promise.all([getAccount(principal.agencyId), getUser(principal.userId)]);
  if (agency?.type !== 'agency' || agency.emailVerified || !agency.email || !user) return;
  const now = clockNow();
  const audit = audited({
    agencyId: agency.id,
    action: 'agency.verification_resent',
    target: { type: 'agency', id: agency.id },
  });
  await transact([
    audit,
    ...(await verificationWrites(
      {
        agencyId: agency.id,
        agencyName: agency.name,
        userId: principal.userId,
        userName: user.name ?? agency.name,
        email: agency.email,
      },
      now,
    )),
  ]);
}
