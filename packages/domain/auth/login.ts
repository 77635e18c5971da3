import { randomBytes } from 'node:crypto';
import { unauthenticated } from '#core/errors';
import { getAccount } from '#db/items/account';
import { findEmail, getUser } from '#db/items/user';
import { transact } from '#db/transact';
import type { LoginBody } from '../accounts/schemas';
import { audited } from '../audit/record';
import { issueSession } from './issue-session';
import { hashPassword, verifyPassword } from './passwords';
import { clearAttempts, limits, takeAttempt } from './throttle';

/**
 * An unknown email is checked against this hash, so it costs the same scrypt time as a known
 * one. Computed once per container, at cold start (this module is only loaded by the function
 * that logs in), not on the first unknown email: that one would otherwise be slower.
 */
const dummyHash = hashPassword(randomBytes(18).toString('base64url'));

const badLogin = () => unauthenticated('Email or password is incorrect');

/**
 * Login answers the same 401 for an unknown email, a wrong password and a closed account, and
 * takes the same path for all of them: one attempt from the email's window first (the 11th in
 * 15 minutes is a 429, right password or not, known email or not), then a scrypt check.
 */
export async function logIn(body: LoginBody) {
  const email = body.email.trim().toLowerCase();
  await takeAttempt(limits.login, email);
  const guard = await findEmail(email);
  const user = guard && (await getUser(guard.userId));
  const ok = await verifyPassword(body.password, user?.passwordHash ?? (await dummyHash));
  if (!user || !ok) throw badLogin();
  if (user.accountType === 'sub_account') {
    const account = await getAccount(user.accountId);
    if (account?.status !== 'active') throw badLogin();
  }
  // A success gives its attempt back: the window counts failures.
  await clearAttempts(limits.login, email);
  const session = await issueSession(user);
  // The login, by the user into its account: never the token. A failed login writes nothing
  // (the attempt window above counts it): a record per failure would let anyone fill the log.
  await transact([
    audited({
      agencyId: user.agencyId,
      action: 'user.logged_in',
      target: { type: 'user', id: user.id },
      actor: { type: 'user', userId: user.id },
      changes: [{ field: 'accountId', before: null, after: user.accountId }],
    }),
  ]);
  return {
    ...session,
    principal: { userId: user.id, accountId: user.accountId, accountType: user.accountType },
  };
}
