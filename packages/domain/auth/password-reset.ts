import { setTimeout as sleep } from 'node:timers/promises';
import { now as clockNow } from '#core/clock';
import { seal } from '#crypto/secret-box';
import { accountKey, accountShape } from '#db/items/account';
import { findEmail, getUser, setPassword } from '#db/items/user';
import { foundItem, getItems } from '#db/read';
import { transact } from '#db/transact';
import type { PasswordResetBody, PasswordResetConfirmBody } from '../accounts/schemas';
import { audited } from '../audit/record';
import { newOutboxId, outboxWrite } from '../outbox';
import { newOneTimeToken, usableToken } from './one-time-tokens';
import { checkNewPassword } from './password-policy';
import { hashPassword } from './passwords';
import { clearAttempts, limits, takeAttempt } from './throttle';

/**
 * Password reset for every user. The request answers 202 whatever the email, throttled per
 * email like login (the same 429 for known and unknown emails), and takes at least
 * ANSWER_FLOOR_MS of wall time, so its duration does not tell whether the email exists. A
 * known user of an active account (and active agency) gets a single-use link valid one hour;
 * confirming it sets the new password and ends every session of that user.
 */
const ANSWER_FLOOR_MS = 400;

export async function requestPasswordReset(body: PasswordResetBody): Promise<void> {
  const email = body.email.trim().toLowerCase();
  await takeAttempt(limits.passwordReset, email);
  const started = performance.now();
  try {
    await sendResetLink(email);
  } finally {
    const left = ANSWER_FLOOR_MS - (performance.now() - started);
    if (left > 0) await sleep(left);
  }
}

async function sendResetLink(email: string): Promise<void> {
  const guard = await findEmail(email);
  const user = guard && (await getUser(guard.userId));
  if (!user) return;
  const [ownKey, agencyKey] = [accountKey(user.accountId), accountKey(user.agencyId)];
  // An agency user's own account is the agency: one key (BatchGet refuses duplicates).
  const found = await getItems(user.accountId === user.agencyId ? [agencyKey] : [ownKey, agencyKey]);
  const [account, agency] = [ownKey, agencyKey].map((k) => foundItem(found, k, accountShape));
  // A closed sub-account's or a suspended agency's users get nothing: they could not log in anyway;
  // nor does a client without a login (a reopened account's, until the agency issues credentials).
  if (
    account?.status !== 'active' ||
    agency?.status !== 'active' ||
    (account.type === 'sub_account' && account.clientLogin === false)
  )
    return;

  const now = clockNow();
  const { token, write } = newOneTimeToken('password_reset', user.id, user.accountId);
  const outboxId = newOutboxId();
  const event = {
    type: 'user.password_reset' as const,
    userId: user.id,
    ...(user.accountType === 'sub_account' ? { agencyName: agency.name } : {}),
    recipientName: user.name,
    to: user.email,
    sealedToken: await seal(token, outboxId),
  };
  // That a link was sent, to whom: never the token. The requester is anonymous (the platform).
  const audit = audited({
    agencyId: user.agencyId,
    action: 'user.password_reset_requested',
    target: { type: 'user', id: user.id },
  });
  await transact([write, outboxWrite(outboxId, event, now), audit]);
}

/** Spends the token and sets the password in one transaction; the user's sessions all end (version + 1). */
export async function confirmPasswordReset(body: PasswordResetConfirmBody): Promise<void> {
  const { item, spend } = await usableToken(body.token, 'password_reset');
  const user = await getUser(item.userId);
  if (!user) throw new Error(`password reset token names a missing user ${item.userId}`);
  await checkNewPassword(body.newPassword, 'newPassword', [user.email, user.name]);
  // By the owner of the inbox the link went to: never the token or the password.
  const audit = audited({
    agencyId: user.agencyId,
    action: 'user.password_reset',
    target: { type: 'user', id: user.id },
    actor: { type: 'user', userId: user.id },
  });
  await transact([spend, setPassword(user.id, await hashPassword(body.newPassword), clockNow().toISOString()), audit]);
  // Whoever locked the login out by guessing did not stop the owner of the inbox.
  await clearAttempts(limits.login, user.email);
}
